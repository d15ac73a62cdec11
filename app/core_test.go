package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/identity"
	"github.com/peerdesk/peerdesk/node"
	"github.com/peerdesk/peerdesk/shares"
	"github.com/peerdesk/peerdesk/shares/remote"
	"github.com/peerdesk/peerdesk/shares/transfer"
	"github.com/peerdesk/peerdesk/transport"
)

// freeUDPPort finds a loopback UDP port nobody uses right now.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

func startNode(t *testing.T, name string) (*node.Node, int) {
	t.Helper()
	port := freeUDPPort(t)
	n, err := node.Start(context.Background(), node.Config{
		Home: t.TempDir(), Name: name, Port: port, ListenHost: "127.0.0.1", NoMDNS: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n, port
}

// TestScreensAgainstRealNodes runs what the screens call (nodeCore)
// against two real peers on loopback: real DTLS, real files, the real
// control socket for settings. The widget tests use fakes of these same
// interfaces; this shows the adapters do what the screens expect.
func TestScreensAgainstRealNodes(t *testing.T) {
	a, _ := startNode(t, "front-desk")
	b, portB := startNode(t, "back-office")
	gui, other := nodeCore{Node: a}, nodeCore{Node: b}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// The other PC: an account and a read-write folder for it.
	docs := t.TempDir()
	if err := os.WriteFile(filepath.Join(docs, "plan.txt"), []byte("the plan"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := other.AddUser(node.UserArgs{Name: "bob", Password: "pw-bob-1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := other.AddFolderShare(node.FolderShareArgs{Name: "docs", Path: docs}); err != nil {
		t.Fatal(err)
	}
	// The access editor's save: bob rw, guests nothing.
	if err := other.UpdateShareAccess("docs", map[string]access.Right{"bob": access.RightRW}, access.RightNone); err != nil {
		t.Fatal(err)
	}
	if infos := other.ShareInfos(); len(infos) != 1 || infos[0].Access["bob"] != access.RightRW {
		t.Fatalf("share after the editor saved: %+v", infos)
	}
	if _, err := a.AddPeer(ctx, "127.0.0.1:"+strconv.Itoa(portB)); err != nil {
		t.Fatal(err)
	}
	peer := b.ID().ID

	// Files screen: guest sees docs locked (nothing to open), bob sees
	// docs and its file.
	m := newBrowserModel(gui, func(f func()) { f() }, func(f func()) { f() })
	m.OpenPeer(peer, "back-office")
	if m.Err != nil || len(m.Rows) != 1 || m.Rows[0].Name != "docs" || m.Rows[0].Right != access.RightNone {
		t.Fatalf("as guest: rows %+v err %v; want docs, locked", m.Rows, m.Err)
	}
	asked := 0
	m.askCreds = func(string, error, func()) { asked++ }
	if m.Open(m.Rows[0]); m.Share != "" || asked != 1 {
		t.Fatalf("opening a locked share as guest: share %q, login asked %d times", m.Share, asked)
	}
	// Logged in as bob, the share list comes back and the share opened
	// while locked opens.
	m.SetCreds(peer, node.Creds{User: "bob", Password: "pw-bob-1"})
	m.Load()
	if got := names(m.Rows); m.Share != "docs" || len(got) != 1 || got[0] != "plan.txt" || m.Rows[0].Size != 8 {
		t.Fatalf("as bob after opening docs locked: in %q, %v (err %v)", m.Share, got, m.Err)
	}
	m.Up()
	if got := names(m.Rows); len(got) != 1 || got[0] != "docs" || m.Rows[0].Right != access.RightRW {
		t.Fatalf("as bob: shares %+v (err %v)", m.Rows, m.Err)
	}
	// Wrong password: the refusal is worded, not raw.
	_, err := gui.Browse(ctx, remote.Path{Peer: peer, Share: "docs"}, node.Creds{User: "bob", Password: "nope"}, false)
	if !errors.Is(err, transport.ErrAccessDenied) || !strings.HasPrefix(humanError(err), "Access denied") {
		t.Errorf("wrong password: %v → %q", err, humanError(err))
	}

	// New folder, upload, download.
	bob := node.Creds{User: "bob", Password: "pw-bob-1"}
	if err := gui.Mkdir(ctx, remote.Path{Peer: peer, Share: "docs", Path: "in/2026"}, bob); err != nil {
		t.Fatalf("mkdir: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(docs, "in", "2026")); err != nil || !fi.IsDir() {
		t.Fatalf("new folder not on the other PC: %v", err)
	}
	local := filepath.Join(t.TempDir(), "up.txt")
	if err := os.WriteFile(local, []byte("uploaded"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := gui.Put(ctx, []string{local}, remote.Path{Peer: peer, Share: "docs", Path: "in/2026"}, bob, false, nil); err != nil {
		t.Fatalf("upload: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(docs, "in", "2026", "up.txt")); err != nil || string(b) != "uploaded" {
		t.Fatalf("uploaded file: %q, %v", b, err)
	}
	dest := t.TempDir()
	if _, err := gui.Get(ctx, remote.Path{Peer: peer, Share: "docs", Path: "plan.txt"}, bob, remote.GetOptions{Dest: dest}, nil); err != nil {
		t.Fatalf("download: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(dest, "plan.txt")); err != nil || string(b) != "the plan" {
		t.Fatalf("downloaded file: %q, %v", b, err)
	}

	// Transfers screen lists them.
	kinds := map[transfer.Kind]transfer.State{}
	for _, in := range gui.TransferList() {
		kinds[in.Kind] = in.State
	}
	if kinds[transfer.KindUpload] != transfer.StateDone || kinds[transfer.KindDownload] != transfer.StateDone {
		t.Errorf("transfers %v, want a done upload and download", kinds)
	}

	// Push-send: the other PC's prompt accepts; the file lands in its inbox.
	inbox := t.TempDir()
	if err := other.ChangeSetting(ctx, "inbox", inbox); err != nil {
		t.Fatalf("settings: %v", err)
	}
	var offered shares.Offer
	b.SetAcceptAsker(func(_ context.Context, o shares.Offer) bool { offered = o; return true })
	if _, err := gui.Send(ctx, peer, []string{local}, nil); err != nil {
		t.Fatalf("send: %v", err)
	}
	if offered.PeerName != "front-desk" || len(offered.Files) != 1 || offered.Total != 8 {
		t.Errorf("offer seen by the receiver: %+v", offered)
	}
	if _, err := os.Stat(filepath.Join(inbox, "up.txt")); err != nil {
		t.Errorf("sent file not in the inbox: %v", err)
	}

	// Audit log on the other PC: bob's listing allowed, the bad password refused.
	recs, err := other.AuditRecords(100)
	if err != nil {
		t.Fatal(err)
	}
	var allowed, refused bool
	for _, r := range recs {
		allowed = allowed || (r.Account == "bob" && r.Allowed)
		refused = refused || !r.Allowed
	}
	if !allowed || !refused {
		t.Errorf("audit log lacks bob's allowed and refused requests: %+v", recs)
	}

	// Pause sharing on the other PC refuses everyone; resume lets them in.
	b.SetSharingPaused(true)
	if _, err := gui.Browse(ctx, remote.Path{Peer: peer, Share: "docs"}, bob, false); err == nil {
		t.Error("browse worked while sharing was paused")
	} else if !strings.Contains(humanError(err), "busy") {
		t.Errorf("paused sharing is not worded: %v", err)
	}
	if _, err := gui.Printers(ctx, peer, bob); err == nil {
		t.Error("printers listed while sharing was paused")
	}
	b.SetSharingPaused(false)
	if _, err := gui.Printers(ctx, peer, bob); err != nil {
		t.Errorf("printers after resume: %v", err)
	}
	if _, err := gui.Browse(ctx, remote.Path{Peer: peer, Share: "docs"}, bob, false); err != nil {
		t.Errorf("browse after resume: %v", err)
	}

	// Print screen: the other PC shares no printer yet.
	if list, err := gui.Printers(ctx, peer, bob); err != nil || len(list) != 0 {
		t.Errorf("printers of a PC sharing none: %+v, %v", list, err)
	}

	// Peer card: pinned on first contact; comparing codes verifies.
	if st := gui.TrustOf(peer).State; st != identity.TrustPinned {
		t.Errorf("trust after contact: %s, want pinned", st)
	}
	if e, err := gui.Retrust(peer, b.ID().Fingerprint); err != nil || e.State != identity.TrustVerified {
		t.Errorf("verify: %+v, %v", e, err)
	}

	// Accounts and settings screens.
	if err := gui.AddUser(node.UserArgs{Name: "carol", Password: "pw-carol-1"}); err != nil {
		t.Fatal(err)
	}
	if err := gui.SetUserPassword(node.UserArgs{Name: "carol", Password: "pw-carol-2"}); err != nil {
		t.Fatal(err)
	}
	if l := gui.AccountList(); len(l) != 1 || l[0].Name != "carol" {
		t.Errorf("accounts %+v", l)
	}
	if err := gui.RemoveUser(node.UserArgs{Name: "carol"}); err != nil || len(gui.AccountList()) != 0 {
		t.Errorf("remove account: %v, left %+v", err, gui.AccountList())
	}
	if err := gui.ChangeSetting(ctx, "port", "99999"); !errors.Is(err, node.ErrUsage) || humanError(err) != "Port must be 1-65535." {
		t.Errorf("bad port: %v → %q", err, humanError(err))
	}
	if err := gui.ChangeSetting(ctx, "auto_accept", "true"); err != nil {
		t.Fatal(err)
	}
	if v, err := gui.LoadSettings(ctx); err != nil || !v.AutoAccept || v.Name != "front-desk" || v.InboxDir == "" {
		t.Errorf("settings %+v, %v", v, err)
	}
}
