//go:build linux

package app

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// privateBus starts a D-Bus session bus of the test's own and points the
// session bus address at it.
func privateBus(t *testing.T) string {
	t.Helper()
	daemon, err := exec.LookPath("dbus-daemon")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("dbus-daemon missing under CI (scripts/deps.sh installs it): %v", err)
		}
		t.Skip("no dbus-daemon")
	}
	sock := filepath.Join(t.TempDir(), "bus")
	cmd := exec.Command(daemon, "--session", "--nofork", "--print-address=1", "--address=unix:path="+sock)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	addr = strings.TrimSpace(addr)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
	return addr
}

// fakePortal is xdg-desktop-portal's FileChooser as a desktop offers it:
// OpenFile answers with a request handle and, a moment later, the
// Response signal on it.
type fakePortal struct {
	conn    *dbus.Conn
	title   string
	opts    map[string]dbus.Variant
	code    uint32
	uris    []string
	answers chan struct{}
}

func (f *fakePortal) OpenFile(sender dbus.Sender, parent, title string, opts map[string]dbus.Variant) (dbus.ObjectPath, *dbus.Error) {
	f.title, f.opts = title, opts
	token, _ := opts["handle_token"].Value().(string)
	path := dbus.ObjectPath("/org/freedesktop/portal/desktop/request/" + strings.ReplaceAll(strings.TrimPrefix(string(sender), ":"), ".", "_") + "/" + token)
	go func() {
		time.Sleep(20 * time.Millisecond) // a person choosing
		_ = f.conn.Emit(path, "org.freedesktop.portal.Request.Response", f.code, map[string]dbus.Variant{"uris": dbus.MakeVariant(f.uris)})
		f.answers <- struct{}{}
	}()
	return path, nil
}

// TestPortalFilePicker (R2 7/7 item 10): the desktop's own file chooser
// is asked over a real D-Bus (a private bus with a portal standing in for
// GNOME's or KDE's): titled with where the files go, several at once;
// its answer gives local paths, a cancel none, and without a portal the
// caller is told to use Fyne's dialog.
func TestPortalFilePicker(t *testing.T) {
	privateBus(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := portalPick(ctx, pickRequest{title: "x"}); !errors.Is(err, errNoPortal) {
		t.Fatalf("with no portal on the bus: %v, want errNoPortal", err)
	}

	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	f := &fakePortal{conn: conn, uris: []string{"file:///home/alice/minutes.pdf", "file:///home/alice/Photos/a%20b.jpg"}, answers: make(chan struct{}, 4)}
	if err := conn.Export(f, "/org/freedesktop/portal/desktop", "org.freedesktop.portal.FileChooser"); err != nil {
		t.Fatal(err)
	}
	if reply, err := conn.RequestName("org.freedesktop.portal.Desktop", dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("request the portal's name: %v %v", reply, err)
	}

	paths, err := portalPick(ctx, pickRequest{title: "Upload files to Front desk:docs", accept: "Upload", multiple: true})
	if err != nil || !slices.Equal(paths, []string{"/home/alice/minutes.pdf", "/home/alice/Photos/a b.jpg"}) {
		t.Fatalf("picked %q, %v", paths, err)
	}
	if f.title != "Upload files to Front desk:docs" || f.opts["multiple"].Value() != true || f.opts["accept_label"].Value() != "Upload" || f.opts["directory"].Value() != false {
		t.Errorf("the portal was asked %q with %v", f.title, f.opts)
	}

	f.code, f.uris = 1, nil // the person cancels
	if paths, err := portalPick(ctx, pickRequest{title: "Download docs into…", folder: true}); err != nil || len(paths) != 0 {
		t.Errorf("canceled: %q, %v", paths, err)
	}
	if f.opts["directory"].Value() != true {
		t.Errorf("a folder was asked with %v", f.opts)
	}

	f.code, f.uris = 0, []string{"https://example.org/x"}
	if _, err := portalPick(ctx, pickRequest{title: "x"}); err == nil {
		t.Error("a URI that is not a local file was taken")
	}
}
