//go:build linux

package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/godbus/dbus/v5"
)

// portalPick asks the desktop's own file chooser through
// xdg-desktop-portal (GNOME's, KDE's: the user's bookmarks, recent files,
// previews, several files at once) for files, or for a folder. It returns
// the chosen paths, none when the person canceled, and errNoPortal when
// the desktop has no portal (then Fyne's own dialog stands in).
func portalPick(ctx context.Context, p pickRequest) ([]string, error) {
	if !sessionBusKnown() {
		// Without one, godbus would run dbus-launch and leave a bus
		// daemon behind.
		return nil, fmt.Errorf("%w: no session bus", errNoPortal)
	}
	conn, err := dbus.ConnectSessionBus(dbus.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNoPortal, err)
	}
	defer conn.Close()
	tok := make([]byte, 8)
	_, _ = rand.Read(tok)
	token := "peerdesk_" + hex.EncodeToString(tok)
	sender := strings.ReplaceAll(strings.TrimPrefix(conn.Names()[0], ":"), ".", "_")
	want := dbus.ObjectPath("/org/freedesktop/portal/desktop/request/" + sender + "/" + token)
	// Listen before asking: the answer may come before the call returns.
	if err := conn.AddMatchSignal(dbus.WithMatchInterface(portalRequest), dbus.WithMatchMember("Response")); err != nil {
		return nil, fmt.Errorf("%w: %v", errNoPortal, err)
	}
	signals := make(chan *dbus.Signal, 8)
	conn.Signal(signals)
	opts := map[string]dbus.Variant{
		"handle_token": dbus.MakeVariant(token),
		"multiple":     dbus.MakeVariant(p.multiple),
		"directory":    dbus.MakeVariant(p.folder),
		"modal":        dbus.MakeVariant(true),
	}
	if p.accept != "" {
		opts["accept_label"] = dbus.MakeVariant(p.accept)
	}
	var handle dbus.ObjectPath
	portal := conn.Object("org.freedesktop.portal.Desktop", "/org/freedesktop/portal/desktop")
	if err := portal.CallWithContext(ctx, "org.freedesktop.portal.FileChooser.OpenFile", 0, "", p.title, opts).Store(&handle); err != nil {
		return nil, fmt.Errorf("%w: %v", errNoPortal, err)
	}
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case s := <-signals:
			if s == nil || (s.Path != handle && s.Path != want) || s.Name != portalRequest+".Response" {
				continue
			}
			var code uint32
			var results map[string]dbus.Variant
			if err := dbus.Store(s.Body, &code, &results); err != nil {
				return nil, fmt.Errorf("file chooser: %w", err)
			}
			switch code {
			case 0:
				return portalPaths(results)
			case 1:
				return nil, nil // canceled
			}
			return nil, fmt.Errorf("file chooser: the desktop's file chooser failed (code %d)", code)
		}
	}
}

const portalRequest = "org.freedesktop.portal.Request"

// sessionBusKnown reports whether the desktop session has a bus to ask:
// its address in the environment, or the per-user socket systemd makes.
func sessionBusKnown() bool {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") != "" {
		return true
	}
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "bus")); err == nil {
			return true
		}
	}
	return false
}

// portalPaths are the local paths of a file chooser's answer; anything
// but a file:// URI is refused (the portal's own documents store hands
// out file URIs too).
func portalPaths(results map[string]dbus.Variant) ([]string, error) {
	var uris []string
	if v, ok := results["uris"]; ok {
		if err := v.Store(&uris); err != nil {
			return nil, fmt.Errorf("file chooser: %w", err)
		}
	}
	out := make([]string, 0, len(uris))
	for _, u := range uris {
		pu, err := url.Parse(u)
		if err != nil || pu.Scheme != "file" || pu.Path == "" {
			return nil, fmt.Errorf("file chooser: %q is not a local file", u)
		}
		out = append(out, pu.Path)
	}
	return out, nil
}
