package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/control"
	"github.com/peerdesk/peerdesk/discovery"
	"github.com/peerdesk/peerdesk/identity"
	"github.com/peerdesk/peerdesk/internal/human"
	"github.com/peerdesk/peerdesk/node"
	"github.com/peerdesk/peerdesk/printing"
	"github.com/peerdesk/peerdesk/shares"
	"github.com/peerdesk/peerdesk/shares/remote"
	"github.com/peerdesk/peerdesk/shares/transfer"
	"github.com/peerdesk/peerdesk/transport"
)

// syncSvc runs background work and UI updates at once, on the test's
// goroutine, so a screen's state can be read right after an action.
func syncSvc(s services) services {
	s.onUI = func(f func()) { f() }
	s.bg = func(f func()) { f() }
	return s
}

// fakeFiles is a peer "pc1" sharing "docs" (a tree in memory) to account
// bob only, and "public" to guests.
type fakeFiles struct {
	tree  map[string][]shares.Entry // "share/dir" → entries
	calls []string
	made  []remote.Path
	// midway, if set, runs in Get and Put after half of the bytes moved;
	// failGet, if set, is what Get returns after that.
	midway  func()
	failGet error
	// locked: the share list asked with hidden shows docs locked to guests,
	// as the owner does.
	locked bool
}

func newFakeFiles() *fakeFiles {
	t0 := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
	return &fakeFiles{tree: map[string][]shares.Entry{
		"docs/": {
			{Name: "b.txt", Size: 300, Mtime: t0},
			{Name: "Reports", Dir: true, Mtime: t0},
			{Name: "a.pdf", Size: 2000, Mtime: t0.Add(time.Hour)},
		},
		"docs/Reports": {{Name: "q1.xlsx", Size: 10, Mtime: t0}},
		"public/":      {},
	}}
}

func (f *fakeFiles) Browse(_ context.Context, rp remote.Path, c node.Creds, hidden bool) (remote.Listing, error) {
	f.calls = append(f.calls, rp.Share+"/"+rp.Path+" as "+c.User)
	if rp.Peer != "pc1" {
		return remote.Listing{}, fmt.Errorf("browse %s: %w", rp.Peer, node.ErrPeerNotFound)
	}
	if rp.Share == "" {
		l := remote.Listing{Shares: []access.VisibleShare{{Name: "public", Kind: access.KindFolder, Right: access.RightRO}}}
		if c.User == "bob" && c.Password == "pw" {
			l.Shares = append(l.Shares, access.VisibleShare{Name: "docs", Kind: access.KindFolder, Right: access.RightRW})
		} else if f.locked && hidden {
			l.Shares = append(l.Shares, access.VisibleShare{Name: "docs", Kind: access.KindFolder, Right: access.RightNone})
		}
		return l, nil
	}
	if rp.Share == "docs" && (c.User != "bob" || c.Password != "pw") {
		return remote.Listing{}, fmt.Errorf("list pc1:docs: %w: wrong account or password", transport.ErrAccessDenied)
	}
	e, ok := f.tree[rp.Share+"/"+rp.Path]
	if !ok {
		return remote.Listing{}, fmt.Errorf("list: %w", transport.ErrNotFound)
	}
	return remote.Listing{Entries: slices.Clone(e)}, nil
}

func (f *fakeFiles) Get(_ context.Context, rp remote.Path, _ node.Creds, _ remote.GetOptions, progress func(node.Progress)) (remote.GetResult, error) {
	f.halfway(progress)
	if f.failGet != nil {
		return remote.GetResult{}, f.failGet
	}
	return remote.GetResult{Files: []remote.GotFile{{}, {}}, Bytes: 4096}, nil
}

func (f *fakeFiles) Put(_ context.Context, locals []string, _ remote.Path, _ node.Creds, _ bool, progress func(node.Progress)) ([]remote.PutResult, error) {
	f.halfway(progress)
	return []remote.PutResult{{Local: locals[0], Size: 300}}, nil
}

// halfway reports two transfers, one done and one not started, as a
// transfer would, and runs midway.
func (f *fakeFiles) halfway(progress func(node.Progress)) {
	if progress != nil {
		progress(node.Progress{ID: "t1", Bytes: 2048, Total: 2048})
		progress(node.Progress{ID: "t2", Bytes: 0, Total: 2048})
	}
	if f.midway != nil {
		f.midway()
	}
}

func (f *fakeFiles) Mkdir(_ context.Context, rp remote.Path, _ node.Creds) error {
	f.made = append(f.made, rp)
	return nil
}

func names(rows []browseRow) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.Name)
	}
	return out
}

func TestBrowseNavigation(t *testing.T) {
	files := newFakeFiles()
	m := newBrowserModel(files, func(f func()) { f() }, func(f func()) { f() })
	var asked []string
	m.askCreds = func(peer string, _ error, retry func()) {
		asked = append(asked, peer)
		m.SetCreds("pc1", node.Creds{User: "bob", Password: "pw"})
		retry()
	}

	m.OpenPeer("pc1", "Front desk")
	if got := names(m.Rows); !reflect.DeepEqual(got, []string{"public"}) {
		t.Fatalf("as guest, shares %v, want [public]", got)
	}
	// Log in (as the Log in… button does), then open docs.
	m.SetCreds("pc1", node.Creds{User: "bob", Password: "pw"})
	m.Load()
	if got := names(m.Rows); !reflect.DeepEqual(got, []string{"docs", "public"}) {
		t.Fatalf("as bob, shares %v, want [docs public]", got)
	}
	m.Open(m.Rows[0])
	if got := names(m.Rows); !reflect.DeepEqual(got, []string{"Reports", "a.pdf", "b.txt"}) {
		t.Fatalf("docs sorted by name: %v, want folders first, then a.pdf, b.txt", got)
	}
	m.SortOn(sortSize)
	if got := names(m.Rows); !reflect.DeepEqual(got, []string{"Reports", "b.txt", "a.pdf"}) {
		t.Errorf("by size: %v", got)
	}
	m.SortOn(sortSize) // again: descending, folders still first
	if got := names(m.Rows); !reflect.DeepEqual(got, []string{"Reports", "a.pdf", "b.txt"}) {
		t.Errorf("by size, descending: %v", got)
	}
	m.SortOn(sortDate)
	if got := names(m.Rows); got[2] != "a.pdf" {
		t.Errorf("by date: %v, want the newest (a.pdf) last", got)
	}

	m.Open(m.Rows[0]) // Reports
	if m.Target() != (remote.Path{Peer: "pc1", Share: "docs", Path: "Reports"}) {
		t.Fatalf("target %+v", m.Target())
	}
	crumbs := m.Crumbs()
	var labels []string
	for _, c := range crumbs {
		labels = append(labels, c.Label)
	}
	if !reflect.DeepEqual(labels, []string{"Front desk", "docs", "Reports"}) {
		t.Errorf("breadcrumbs %v", labels)
	}
	if got := m.PathOf(m.Rows[0]); got.Path != "Reports/q1.xlsx" {
		t.Errorf("path of q1.xlsx: %+v", got)
	}
	m.Go(crumbs[1])
	if m.Dir != "" || m.Share != "docs" || len(m.Rows) != 3 {
		t.Errorf("crumb docs: share %q dir %q rows %v", m.Share, m.Dir, names(m.Rows))
	}
	m.Up()
	if m.Share != "" || len(m.Rows) != 2 {
		t.Errorf("up from a share's top: share %q rows %v, want the share list", m.Share, names(m.Rows))
	}

	// A refusal asks for credentials and retries with them.
	m.SetCreds("pc1", node.Creds{})
	m.Open(browseRow{Name: "docs", Share: true, Dir: true, Kind: access.KindFolder})
	if len(asked) != 1 || asked[0] != "Front desk" {
		t.Fatalf("refusal asked for credentials %v times (%v), want once for Front desk", len(asked), asked)
	}
	if m.Err != nil || len(m.Rows) != 3 {
		t.Errorf("after logging in: err %v, rows %v", m.Err, names(m.Rows))
	}
	if last := files.calls[len(files.calls)-1]; last != "docs/ as bob" {
		t.Errorf("retry listed %q, want docs as bob", last)
	}
}

// filesOnDocs is the Files screen in a test window, logged in as bob on
// pc1 and showing its share docs.
func filesOnDocs(t *testing.T) (*browserScreen, fyne.Window, *fakeFiles) {
	t.Helper()
	test.NewTempApp(t)
	peers := newPeersModel()
	peers.reset(nil)
	files := newFakeFiles()
	s := newBrowserScreen(syncSvc(services{files: files}), peers, nil)
	w := test.NewTempWindow(t, s.view())
	s.win = w
	w.Resize(fyne.NewSize(900, 500))
	s.m.SetCreds("pc1", node.Creds{User: "bob", Password: "pw"})
	s.m.OpenPeer("pc1", "Front desk")
	s.m.Open(browseRow{Name: "docs", Share: true, Dir: true, Kind: access.KindFolder})
	return s, w, files
}

// TestBrowserScreenShowsFolder renders the Files screen: breadcrumbs,
// names, sizes and the status line a person reads.
func TestBrowserScreenShowsFolder(t *testing.T) {
	s, w, files := filesOnDocs(t)
	markup := test.RenderToMarkup(w.Canvas())
	for _, want := range []string{">Front desk<", ">docs<", ">Reports<", ">a.pdf<", ">2.0 KiB<", ">300 B<", "3 items"} {
		if !strings.Contains(markup, want) {
			t.Errorf("Files screen lacks %s", want)
		}
	}
	// New folder goes into the folder on show.
	s.m.Open(s.m.Rows[0])
	if s.mkdir.Disabled() {
		t.Error("New folder disabled inside a share")
	}
	s.makeFolder(" New ")
	if len(files.made) != 1 || files.made[0] != (remote.Path{Peer: "pc1", Share: "docs", Path: "Reports/New"}) {
		t.Errorf("mkdir %+v", files.made)
	}
}

// TestFilesSaysWhatTransfersDid (R2 7/7 item 3): a download or upload
// started on the Files screen is said there while it runs (what, how far)
// and when it ends (how many files, how much, where; Open folder for a
// download), not only in a notification; a failed one says so there too.
func TestFilesSaysWhatTransfersDid(t *testing.T) {
	s, w, files := filesOnDocs(t)
	if s.act.box.Visible() {
		t.Fatal("the activity strip shows before anything ran")
	}

	dest := t.TempDir()
	var during string
	var fraction float64
	files.midway = func() { during, fraction = s.act.label.Text, s.act.bar.Value }
	s.downloadInto(remote.Path{Peer: "pc1", Share: "docs", Path: "Reports"}, "Reports", s.m.Creds(), dest)
	if during != "Downloading Reports from Front desk…" || fraction != 0.5 {
		t.Errorf("while downloading: %q at %v, want the name and 0.5", during, fraction)
	}
	markup := test.RenderToMarkup(w.Canvas())
	for _, want := range []string{"Downloaded Reports: 2 files, 4.0 KiB in " + dest, ">Open folder<"} {
		if !strings.Contains(markup, want) {
			t.Errorf("after the download the Files screen lacks %q", want)
		}
	}
	if !s.act.open.Visible() || s.act.bar.Visible() || s.act.dir != dest {
		t.Errorf("after the download: open %v, bar %v, dir %q", s.act.open.Visible(), s.act.bar.Visible(), s.act.dir)
	}

	s.m.Open(s.m.Rows[0]) // Reports: writable for bob
	s.upload([]string{filepath.Join(dest, "minutes.txt")})
	if during != "Uploading minutes.txt to Front desk:docs/Reports…" {
		t.Errorf("while uploading: %q", during)
	}
	if got := s.act.label.Text; got != "Uploaded 1 file, 300 B to Front desk:docs/Reports" || s.act.open.Visible() {
		t.Errorf("after the upload: %q (open folder shown: %v)", got, s.act.open.Visible())
	}

	files.failGet = fmt.Errorf("get: %w", transport.ErrUnreachable)
	s.downloadInto(remote.Path{Peer: "pc1", Share: "docs", Path: "a.pdf"}, "a.pdf", s.m.Creds(), dest)
	if got := s.act.label.Text; !strings.HasPrefix(got, "Download of a.pdf stopped: The other PC does not answer") || s.act.open.Visible() {
		t.Errorf("after a failed download: %q (open folder shown: %v)", got, s.act.open.Visible())
	}
}

// dropBoxFiles is fakeFiles with a drop box "inbox" for guests: listing
// it is refused, as the owner refuses it; uploads go in.
type dropBoxFiles struct {
	*fakeFiles
	put []remote.Path
}

func (f *dropBoxFiles) Browse(ctx context.Context, rp remote.Path, c node.Creds, hidden bool) (remote.Listing, error) {
	if rp.Share == "inbox" {
		f.calls = append(f.calls, "inbox/"+rp.Path+" as "+c.User)
		return remote.Listing{}, fmt.Errorf("list: %w: a drop box is not listed", transport.ErrAccessDenied)
	}
	l, err := f.fakeFiles.Browse(ctx, rp, c, hidden)
	if rp.Share == "" && err == nil {
		l.Shares = append(l.Shares, access.VisibleShare{Name: "inbox", Kind: access.KindFolder, Right: access.RightWO})
	}
	return l, err
}

func (f *dropBoxFiles) Put(ctx context.Context, locals []string, rp remote.Path, c node.Creds, replace bool, progress func(node.Progress)) ([]remote.PutResult, error) {
	f.put = append(f.put, rp)
	return f.fakeFiles.Put(ctx, locals, rp, c, replace, progress)
}

// TestRightsDriveTheFilesScreen (R2 7/7 items 4 and 6): what the share
// list says the login may do decides the buttons: a read-only share
// downloads but takes no upload or new folder; a drop box is not listed
// (no "Access denied", no login prompt, before or after an upload) but
// says "Add files here" and takes uploads.
func TestRightsDriveTheFilesScreen(t *testing.T) {
	test.NewTempApp(t)
	peers := newPeersModel()
	peers.reset(nil)
	files := &dropBoxFiles{fakeFiles: newFakeFiles()}
	asked := 0
	s := newBrowserScreen(syncSvc(services{files: files}), peers, nil)
	w := test.NewTempWindow(t, s.view())
	s.win = w
	s.m.askCreds = func(string, error, func()) { asked++ }
	s.m.OpenPeer("pc1", "Front desk")
	if len(s.m.Rows) != 2 {
		t.Fatalf("guest sees %v", names(s.m.Rows))
	}

	s.m.Open(browseRow{Name: "public", Share: true, Dir: true, Kind: access.KindFolder, Right: access.RightRO})
	if s.uploadF.Disabled() == false || s.uploadD.Disabled() == false || s.mkdir.Disabled() == false || s.download.Disabled() {
		t.Errorf("read-only share: upload file %v, upload folder %v, new folder %v disabled; download disabled %v",
			s.uploadF.Disabled(), s.uploadD.Disabled(), s.mkdir.Disabled(), s.download.Disabled())
	}

	s.m.Up()
	s.m.Open(browseRow{Name: "inbox", Share: true, Dir: true, Kind: access.KindFolder, Right: access.RightWO})
	for _, c := range files.calls {
		if strings.HasPrefix(c, "inbox/") {
			t.Errorf("the drop box was listed: %v", files.calls)
		}
	}
	if s.m.Err != nil || asked != 0 || !strings.HasPrefix(s.status.Text, "Add files here") {
		t.Errorf("drop box: error %v, login asked %d times, status %q", s.m.Err, asked, s.status.Text)
	}
	if s.uploadF.Disabled() || s.uploadD.Disabled() || s.mkdir.Disabled() || !s.download.Disabled() {
		t.Errorf("drop box: upload file %v, upload folder %v, new folder %v disabled; download disabled %v",
			s.uploadF.Disabled(), s.uploadD.Disabled(), s.mkdir.Disabled(), s.download.Disabled())
	}
	s.upload([]string{filepath.Join(t.TempDir(), "scan.pdf")})
	if len(files.put) != 1 || files.put[0] != (remote.Path{Peer: "pc1", Share: "inbox"}) {
		t.Errorf("upload into the drop box went to %+v", files.put)
	}
	if s.m.Err != nil || asked != 0 || !strings.HasPrefix(s.status.Text, "Add files here") {
		t.Errorf("after the upload: error %v, login asked %d times, status %q", s.m.Err, asked, s.status.Text)
	}
}

// memStore is a keyring in memory.
type memStore struct{ m map[string]node.Creds }

func (s *memStore) Load(id string) (node.Creds, bool)  { c, ok := s.m[id]; return c, ok }
func (s *memStore) Save(id string, c node.Creds) error { s.m[id] = c; return nil }
func (s *memStore) Forget(id string) error             { delete(s.m, id); return nil }

// TestLoggedInAsSwitchAndLogOut (R2 7/7 item 4): the Files screen says
// who it is logged in as on the PC on show; its menu switches account or
// logs out, which goes back to guest everywhere (the core and the keyring
// forget the password too).
func TestLoggedInAsSwitchAndLogOut(t *testing.T) {
	test.NewTempApp(t)
	peers := newPeersModel()
	peers.reset(nil)
	files := newFakeFiles()
	store := &memStore{m: map[string]node.Creds{"pc1": {User: "bob", Password: "pw"}}}
	svc := syncSvc(services{files: files, creds: store})
	svc.defaults()
	var forgotten []string
	svc.logins.loggedOut = func(peer string) { forgotten = append(forgotten, peer) }
	s := newBrowserScreen(svc, peers, nil)
	w := test.NewTempWindow(t, s.view())
	s.win = w
	w.Resize(fyne.NewSize(900, 500))
	s.m.OpenPeer("pc1", "Front desk")
	if s.login.Text != "Logged in as bob ▾" || len(s.m.Rows) != 2 {
		t.Fatalf("with bob remembered: button %q, shares %v", s.login.Text, names(s.m.Rows))
	}
	test.Tap(s.login)
	if s.accountMenu == nil || len(s.accountMenu.Items) != 2 || s.accountMenu.Items[0].Label != "Switch account…" || s.accountMenu.Items[1].Label != "Log out" {
		t.Fatalf("account menu %+v", s.accountMenu)
	}
	if w.Canvas().Overlays().Top() == nil {
		t.Error("the account menu did not open")
	}
	w.Canvas().Overlays().Top().Hide()

	s.accountMenu.Items[0].Action() // Switch account…
	form := w.Canvas().Overlays().Top()
	entries := formEntriesIn(form)
	if len(entries) != 3 || entries[0].Text != "bob" {
		t.Fatalf("switch account dialog: %d entries", len(entries))
	}
	form.Hide()

	s.accountMenu.Items[1].Action() // Log out
	if s.login.Text != "Log in…" || len(s.m.Rows) != 1 || s.m.Rows[0].Name != "public" {
		t.Errorf("after log out: button %q, shares %v; want guest", s.login.Text, names(s.m.Rows))
	}
	if _, kept := store.m["pc1"]; kept || !slices.Equal(forgotten, []string{"pc1"}) {
		t.Errorf("after log out: keyring %v, core told %v", store.m, forgotten)
	}
	if c, _ := svc.logins.Get("pc1"); c != (node.Creds{}) {
		t.Errorf("the session still logs in to pc1 as %+v", c)
	}
}

// TestLockedSharesAskForLogin (R2 7/7 item 4): a guest sees every share,
// those it may not open with a lock; opening one asks for a login and,
// logged in, opens it.
func TestLockedSharesAskForLogin(t *testing.T) {
	test.NewTempApp(t)
	peers := newPeersModel()
	peers.reset(nil)
	files := newFakeFiles()
	files.locked = true
	s := newBrowserScreen(syncSvc(services{files: files}), peers, nil)
	w := test.NewTempWindow(t, s.view())
	s.win = w
	w.Resize(fyne.NewSize(900, 500))
	var retry func()
	s.m.askCreds = func(_ string, _ error, again func()) { retry = again }
	s.m.OpenPeer("pc1", "Front desk")
	markup := test.RenderToMarkup(w.Canvas())
	if !strings.Contains(markup, "docs  (locked: log in to open)") || !strings.Contains(markup, ">public<") {
		t.Fatalf("a guest's share list lacks the locked docs:\n%s", markup)
	}
	for _, r := range s.m.Rows {
		if r.Name == "docs" {
			s.m.Open(r)
		}
	}
	if retry == nil || s.m.Share != "" {
		t.Fatalf("opening a locked share: login asked %v, in %q", retry != nil, s.m.Share)
	}
	s.m.SetCreds("pc1", node.Creds{User: "bob", Password: "pw"})
	retry()
	if s.m.Share != "docs" || len(s.m.Rows) != 3 {
		t.Errorf("after logging in: in %q with %v, want docs open", s.m.Share, names(s.m.Rows))
	}
}

// TestLongNamesKeepTheLayout (R2 7/7 item 7): a 200-character file name
// selected, a folder path of long names and a PC with a long name leave
// the Files screen as narrow as short ones do: the Download button, the
// path and the PC chooser shorten them (start … end), Log in… stays on
// screen.
func TestLongNamesKeepTheLayout(t *testing.T) {
	test.NewTempApp(t)
	long := strings.Repeat("Quarterly report of the northern region ", 5) + "final.pdf"
	folder := strings.Repeat("Archive of everything ", 4)
	t0 := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
	peers := newPeersModel()
	peers.reset([]discovery.Peer{{ID: "pc1", Name: "Front desk PC of the accounting department on floor 3", Online: true}})
	files := newFakeFiles()
	files.tree["docs/"] = append(files.tree["docs/"], shares.Entry{Name: long, Size: 5, Mtime: t0}, shares.Entry{Name: folder, Dir: true, Mtime: t0})
	files.tree["docs/"+folder] = []shares.Entry{{Name: long, Size: 5, Mtime: t0}}
	s := newBrowserScreen(syncSvc(services{files: files}), peers, nil)
	w := test.NewTempWindow(t, s.view())
	s.win = w
	s.m.SetCreds("pc1", node.Creds{User: "bob", Password: "pw"})
	s.m.OpenPeer("pc1", "Front desk PC of the accounting department on floor 3")
	s.m.Open(browseRow{Name: "docs", Share: true, Dir: true, Kind: access.KindFolder})
	narrow := w.Content().MinSize().Width

	for i, r := range s.m.Rows {
		if r.Name == long {
			s.table.Select(widget.TableCellID{Row: i, Col: 0})
		}
	}
	if got := s.download.Text; !strings.HasPrefix(got, "Download Quarterly") || !strings.HasSuffix(got, "final.pdf") || utf8.RuneCountInString(got) > len("Download ")+maxButtonName {
		t.Errorf("Download button reads %q, want the name shortened to %d characters with its end kept", got, maxButtonName)
	}
	for _, r := range s.m.Rows {
		if r.Name == folder {
			s.m.Open(r)
		}
	}
	if s.m.Dir != folder {
		t.Fatalf("did not open the long folder: %q", s.m.Dir)
	}
	if got := w.Content().MinSize().Width; got > narrow+1 {
		t.Errorf("long names widened the Files screen from %v to %v", narrow, got)
	}
	if got := w.Content().MinSize().Width; got > 900 {
		t.Errorf("the Files screen needs %v px, more than a small laptop window", got)
	}
	if got := s.peerSel.Options; len(got) != 1 || utf8.RuneCountInString(got[0]) > maxButtonName+12 || !strings.Contains(got[0], "(") {
		t.Errorf("PC chooser options %q: want the long name shortened and told apart by its id", got)
	}
	s.m.OpenPeer("pc2", "Other")
	s.peerSel.SetSelected(s.peerSel.Options[0])
	if s.m.PeerName != "Front desk PC of the accounting department on floor 3" {
		t.Errorf("choosing the shortened PC opened %q", s.m.PeerName)
	}
}

// fakeShares records what the My shares screen changes.
type fakeShares struct {
	accounts *fakeAccounts // nil: alice and bob
	infos    []access.ShareInfo
	updated  []string
	access   map[string]access.Right
	guest    access.Right
	password map[string]string
}

func (f *fakeShares) ShareInfos() []access.ShareInfo { return slices.Clone(f.infos) }
func (f *fakeShares) AccountNames() []string {
	if f.accounts != nil {
		var out []string
		for _, a := range f.accounts.list {
			out = append(out, a.Name)
		}
		return out
	}
	return []string{"alice", "bob"}
}
func (f *fakeShares) AddFolderShare(a node.FolderShareArgs) (access.ShareInfo, error) {
	sh := access.ShareInfo{Name: a.Name, Kind: access.KindFolder, Path: a.Path, Access: map[string]access.Right{}}
	f.infos = append(f.infos, sh)
	return sh, nil
}
func (f *fakeShares) AddPrinterShare(a node.PrinterShareArgs) (access.ShareInfo, error) {
	return access.ShareInfo{}, errors.New("not in this test")
}
func (f *fakeShares) RemoveShare(string) error { return nil }
func (f *fakeShares) UpdateShareAccess(name string, access map[string]access.Right, guest access.Right) error {
	f.updated = append(f.updated, name)
	f.access, f.guest = access, guest
	return nil
}
func (f *fakeShares) SetSharePassword(name, pw string) error {
	f.password[name] = pw
	return nil
}
func (f *fakeShares) LocalQueues(context.Context) ([]printing.Queue, error) { return nil, nil }

// fakeAccounts is the Accounts admin in memory.
type fakeAccounts struct {
	list  []access.AccountInfo
	added []node.UserArgs
}

func (f *fakeAccounts) AccountList() []access.AccountInfo { return f.list }
func (f *fakeAccounts) AddUser(a node.UserArgs) error {
	f.added = append(f.added, a)
	f.list = append(f.list, access.AccountInfo{Name: a.Name})
	return nil
}
func (f *fakeAccounts) SetUserPassword(node.UserArgs) error { return nil }
func (f *fakeAccounts) RemoveUser(node.UserArgs) error      { return nil }

// entriesAndButton are the entries of a dialog, in order, and its button
// labelled text (nil if none).
func entriesAndButton(o fyne.CanvasObject, text string) ([]*widget.Entry, *widget.Button) {
	var entries []*widget.Entry
	var button *widget.Button
	walk(o, func(o fyne.CanvasObject) {
		switch o := o.(type) {
		case *widget.Entry:
			entries = append(entries, o)
		case *widget.Button:
			if o.Text == text {
				button = o
			}
		}
	})
	return entries, button
}

// TestNewAccountChecksAsTyped (R2 7/7 item 10): the new account's name and
// password are checked while typed: Add waits for a valid name and a
// password of at least 8 characters typed twice; nothing typed is lost.
func TestNewAccountChecksAsTyped(t *testing.T) {
	test.NewTempApp(t)
	w := test.NewTempWindow(t, widget.NewLabel(""))
	w.Resize(fyne.NewSize(700, 500))
	accounts := &fakeAccounts{}
	var made []string
	askNewAccount(w, syncSvc(services{accounts: accounts}), func(name string) { made = append(made, name) })
	form := w.Canvas().Overlays().Top()
	entries, add := entriesAndButton(form, "Add")
	if len(entries) != 3 || add == nil {
		t.Fatalf("new account dialog: %d entries, Add %v", len(entries), add != nil)
	}
	if w.Canvas().Focused() != entries[0] {
		t.Errorf("focus on %T, want the name", w.Canvas().Focused())
	}
	name, pw, again := entries[0], entries[1], entries[2]
	for _, c := range []struct {
		name, pw, again string
		ok              bool
	}{
		{"Alice!", "long enough", "long enough", false},
		{"guest", "long enough", "long enough", false},
		{"alice", "abc", "abc", false},
		{"alice", "long enough", "long enouhg", false},
		{"alice", "long enough", "long enough", true},
	} {
		name.SetText(c.name)
		pw.SetText(c.pw)
		again.SetText(c.again)
		if add.Disabled() == c.ok {
			t.Errorf("name %q password %q/%q: Add enabled %v, want %v", c.name, c.pw, c.again, !add.Disabled(), c.ok)
		}
	}
	test.Tap(add)
	if len(accounts.added) != 1 || accounts.added[0] != (node.UserArgs{Name: "alice", Password: "long enough"}) || !slices.Equal(made, []string{"alice"}) {
		t.Errorf("added %+v, then called with %v", accounts.added, made)
	}
}

// TestFilesTableKeyboard (R2 7/7 item 10): Tab reaches the Files table;
// the arrows move, Enter opens a folder or picks a file, Backspace goes
// back up.
func TestFilesTableKeyboard(t *testing.T) {
	test.NewTempApp(t)
	peers := newPeersModel()
	peers.reset(nil)
	s := newBrowserScreen(syncSvc(services{files: newFakeFiles()}), peers, nil)
	w := test.NewTempWindow(t, s.view())
	s.win = w
	w.Resize(fyne.NewSize(900, 500))
	s.m.SetCreds("pc1", node.Creds{User: "bob", Password: "pw"})
	s.m.OpenPeer("pc1", "Front desk")
	s.m.Open(browseRow{Name: "docs", Share: true, Dir: true, Kind: access.KindFolder})
	reached := false
	for range 20 {
		w.Canvas().FocusNext()
		if w.Canvas().Focused() == s.table {
			reached = true
			break
		}
	}
	if !reached {
		t.Fatal("Tab never reaches the Files table")
	}
	if got := names(s.m.Rows); len(got) != 3 || got[0] != "Reports" {
		t.Fatalf("docs holds %v", got)
	}
	key := func(k fyne.KeyName) { s.table.TypedKey(&fyne.KeyEvent{Name: k}) }
	key(fyne.KeyReturn) // Reports
	if s.m.Dir != "Reports" {
		t.Fatalf("Enter on Reports: in %q", s.m.Dir)
	}
	key(fyne.KeyBackspace)
	if s.m.Dir != "" || s.m.Share != "docs" {
		t.Fatalf("Backspace: in %q/%q, want docs", s.m.Share, s.m.Dir)
	}
	key(fyne.KeyDown)
	key(fyne.KeyReturn)
	if s.selected != 1 || !strings.HasPrefix(s.download.Text, "Download a.pdf") {
		t.Errorf("Down, Enter: selected %d, button %q; want a.pdf picked", s.selected, s.download.Text)
	}
}

// TestNewFolderDialog (R2 7/7 item 10): New folder opens with the cursor
// in the name, refuses a name with a slash as it is typed, and Enter
// creates the folder where the screen is.
func TestNewFolderDialog(t *testing.T) {
	s, w, files := filesOnDocs(t)
	s.newFolder()
	entries := formEntriesIn(w.Canvas().Overlays().Top())
	if len(entries) != 1 || w.Canvas().Focused() != entries[0] {
		t.Fatalf("new folder dialog: %d entries, focus on %T", len(entries), w.Canvas().Focused())
	}
	entries[0].SetText("a/b")
	entries[0].TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if len(files.made) != 0 {
		t.Fatalf("a name with a slash made %v", files.made)
	}
	entries[0].SetText("Minutes 2026")
	entries[0].TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if len(files.made) != 1 || files.made[0] != (remote.Path{Peer: "pc1", Share: "docs", Path: "Minutes 2026"}) {
		t.Errorf("Enter made %+v", files.made)
	}
}

// TestShareNameCheckedAsTyped (R2 7/7 item 10): the share name is checked
// while it is typed (Share waits for a valid one, the text stays), the
// dialog is wide enough to read and has the cursor in the name.
func TestShareNameCheckedAsTyped(t *testing.T) {
	test.NewTempApp(t)
	f := &fakeShares{password: map[string]string{}}
	s := newSharesScreen(syncSvc(services{shares: f}), nil)
	w := test.NewTempWindow(t, s.view())
	s.win = w
	w.Resize(fyne.NewSize(900, 600))
	s.addFolder("/srv/Q4 reports (final)")
	form := w.Canvas().Overlays().Top()
	entries, share := entriesAndButton(form, "Share")
	if len(entries) != 1 || share == nil {
		t.Fatal("no name entry or Share button")
	}
	name := entries[0]
	if name.Text != "Q4-reports-final" || share.Disabled() || w.Canvas().Focused() != name {
		t.Errorf("suggested %q, Share disabled %v, focus on %T", name.Text, share.Disabled(), w.Canvas().Focused())
	}
	if width := name.Size().Width; width < 250 {
		t.Errorf("the name field is %v px wide", width)
	}
	for _, c := range []struct {
		text string
		ok   bool
	}{{"a/b", false}, {".hidden", false}, {"", false}, {"Q4 reports", true}} {
		name.SetText(c.text)
		if share.Disabled() == c.ok {
			t.Errorf("name %q: Share enabled %v, want %v", c.text, !share.Disabled(), c.ok)
		}
	}
	if name.Text != "Q4 reports" {
		t.Errorf("typing was lost: %q", name.Text)
	}
}

// TestAccessEditorWithoutAccounts (R2 7/7 item 9): with no accounts yet,
// the access editor offers to create one and comes back with it to choose
// its right, instead of a dead end.
func TestAccessEditorWithoutAccounts(t *testing.T) {
	test.NewTempApp(t)
	accounts := &fakeAccounts{}
	f := &fakeShares{accounts: accounts, password: map[string]string{}, infos: []access.ShareInfo{
		{Name: "photos", Kind: access.KindFolder, Path: "/srv/photos", Access: map[string]access.Right{}},
	}}
	s := newSharesScreen(syncSvc(services{shares: f, accounts: accounts}), nil)
	w := test.NewTempWindow(t, s.view())
	s.win = w
	w.Resize(fyne.NewSize(900, 600))
	s.editAccess(0)
	var create *widget.Button
	walk(w.Canvas().Overlays().Top(), func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok && b.Text == "Create an account…" {
			create = b
		}
	})
	if create == nil {
		t.Fatal("the access editor without accounts offers no way to create one")
	}
	test.Tap(create)
	entries, add := entriesAndButton(w.Canvas().Overlays().Top(), "Add")
	if len(entries) != 3 || add == nil {
		t.Fatalf("Create an account… opened %d entries, Add %v", len(entries), add != nil)
	}
	entries[0].SetText("carol")
	entries[1].SetText("carol's password")
	entries[2].SetText("carol's password")
	test.Tap(add)
	e := s.editor
	if e == nil || e.share.Name != "photos" || e.rights["carol"] == nil {
		t.Fatalf("after creating carol the editor is %+v, want photos with carol to choose for", e)
	}
	e.rights["carol"].SetSelected("read & write")
	s.saveAccess(e)
	if f.access["carol"] != access.RightRW {
		t.Errorf("saved %v, want carol read & write", f.access)
	}
}

func TestAccessEditorSavesTheRightShare(t *testing.T) {
	test.NewTempApp(t)
	f := &fakeShares{password: map[string]string{}, infos: []access.ShareInfo{
		{Name: "accounts", Kind: access.KindFolder, Path: "/srv/accounts", Access: map[string]access.Right{"alice": access.RightRW}},
		{Name: "office-printer", Kind: access.KindPrinter, Queue: "PDF", Access: map[string]access.Right{}},
		{Name: "photos", Kind: access.KindFolder, Path: "/srv/photos", Access: map[string]access.Right{"alice": access.RightRO}, Guest: access.RightRO, Password: true},
	}}
	s := newSharesScreen(syncSvc(services{shares: f}), nil)
	w := test.NewTempWindow(t, s.view())
	s.win = w
	w.Resize(fyne.NewSize(900, 500))
	if markup := test.RenderToMarkup(w.Canvas()); !strings.Contains(markup, "/srv/photos — alice (read only), guests (read only) — password") {
		t.Errorf("share summary missing:\n%s", markup)
	}

	s.editAccess(2) // photos
	e := s.editor
	if e == nil || e.share.Name != "photos" {
		t.Fatalf("editor for %+v, want photos", e)
	}
	if e.rights["alice"].Selected != "read only" || e.rights["bob"].Selected != asGuests || e.guest.Selected != "read only" {
		t.Fatalf("editor starts from alice=%q bob=%q guest=%q", e.rights["alice"].Selected, e.rights["bob"].Selected, e.guest.Selected)
	}
	e.rights["alice"].SetSelected("no access")
	e.rights["bob"].SetSelected("read & write")
	e.guest.SetSelected("no access")
	test.Type(e.password, "s3cret")
	s.saveAccess(e)

	if !reflect.DeepEqual(f.updated, []string{"photos"}) {
		t.Fatalf("updated %v, want only photos", f.updated)
	}
	// "no access" is kept as a refusal: alice no longer falls back to
	// what guests may do.
	if want := map[string]access.Right{"alice": access.RightNone, "bob": access.RightRW}; !reflect.DeepEqual(f.access, want) || f.guest != access.RightNone {
		t.Errorf("saved access %v guest %q, want %v and none", f.access, f.guest, want)
	}
	if f.password["photos"] != "s3cret" || len(f.password) != 1 {
		t.Errorf("passwords set %v", f.password)
	}

	// A printer offers only print; removing a password sends "".
	s.editAccess(1)
	if opts := s.editor.guest.Options; !reflect.DeepEqual(opts, []string{"no access", "print"}) {
		t.Errorf("printer rights %v", opts)
	}
	s.editAccess(2)
	s.editor.clearPW.SetChecked(true)
	s.saveAccess(s.editor)
	if pw, ok := f.password["photos"]; !ok || pw != "" {
		t.Errorf("removing the password set %q", pw)
	}
}

// findButton finds a visible button by its text in a tree of objects.
func findButton(t *testing.T, o fyne.CanvasObject, text string) *widget.Button {
	if b, ok := o.(*widget.Button); ok && b.Text == text && b.Visible() {
		return b
	}
	var kids []fyne.CanvasObject
	switch c := o.(type) {
	case *fyne.Container:
		kids = c.Objects
	case fyne.Widget:
		kids = test.TempWidgetRenderer(t, c).Objects()
	}
	for _, k := range kids {
		if b := findButton(t, k, text); b != nil {
			return b
		}
	}
	return nil
}

func TestAcceptPrompt(t *testing.T) {
	test.NewTempApp(t)
	w := test.NewTempWindow(t, widget.NewLabel("main"))
	w.Resize(fyne.NewSize(800, 600))
	offer := shares.Offer{ID: "o1", PeerName: "Reception", Peer: transport.PeerInfo{ID: "pc2", Trust: identity.TrustVerified},
		Files: []shares.OfferFile{{Name: "invoice.pdf", Size: 2048}, {Name: "photo.jpg", Size: 1 << 20}}, Total: 2048 + 1<<20}

	for _, tc := range []struct {
		button string
		want   bool
	}{{"Accept", true}, {"Decline", false}} {
		t.Run(tc.button, func(t *testing.T) {
			ui := make(uiQueue, 4)
			var notes, shown []string
			p := &acceptPrompt{win: w, onUI: ui.do, notify: func(title, text string) { notes = append(notes, text) },
				shown: func(title string) { shown = append(shown, title) }}
			answer := make(chan bool, 1)
			go func() { answer <- p.ask(context.Background(), offer) }()
			ui.runNext(t)
			top := w.Canvas().Overlays().Top()
			if top == nil {
				t.Fatal("no dialog shown")
			}
			markup := test.RenderObjectToMarkup(top)
			for _, want := range []string{"Reception (verified) wants to send you 2 files", "invoice.pdf  (2.0 KiB)", "photo.jpg  (1.0 MiB)", "Total: 1.0 MiB"} {
				if !strings.Contains(markup, want) {
					t.Errorf("dialog lacks %q:\n%s", want, markup)
				}
			}
			if len(notes) != 1 || !strings.Contains(notes[0], "Reception") {
				t.Errorf("notifications %v, want one naming the peer", notes)
			}
			b := findButton(t, top, tc.button)
			if b == nil {
				t.Fatalf("no %s button", tc.button)
			}
			test.Tap(b)
			select {
			case got := <-answer:
				if got != tc.want {
					t.Errorf("%s answered %v", tc.button, got)
				}
				if len(shown) != 2 || !strings.HasPrefix(shown[0], "Reception (verified)") || shown[1] != "" {
					t.Errorf("dialog reported %q, want opened then closed", shown)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no answer")
			}
		})
	}

	t.Run("sender gives up", func(t *testing.T) {
		ui := make(uiQueue, 4)
		p := &acceptPrompt{win: w, onUI: ui.do, notify: func(string, string) {}}
		ctx, cancel := context.WithCancel(context.Background())
		answer := make(chan bool, 1)
		go func() { answer <- p.ask(ctx, offer) }()
		ui.runNext(t)
		cancel()
		ui.runNext(t) // hides the dialog
		if got := <-answer; got {
			t.Error("an offer nobody answered was accepted")
		}
	})
}

func TestHumanErrors(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("list pc1:docs: %w", transport.ErrAccessDenied), "Access denied"},
		// A declined push-send is not a wrong password (R2 7/7, 8).
		{fmt.Errorf("%w (%w): Desk 2 declined the files", node.ErrDeclined, transport.ErrAccessDenied), "declined the files"},
		{fmt.Errorf("get: %w", transport.ErrUnreachable), "does not answer"},
		{fmt.Errorf("send: %w: pc2 now presents another key", identity.ErrIdentityChanged), "different identity"},
		{fmt.Errorf("write: %w", shares.ErrDiskFull), "disk is full"},
		{fmt.Errorf("print: %w", printing.ErrQueueRejecting), "paused or not accepting"},
		{fmt.Errorf("print.submit: remote peer says: %w: printer pdf: the print spooler of the printer's peer answered bad request: Bad value 'x'.", printing.ErrRefused),
			"refused the request. It said: Bad request: Bad value 'x'."},
		{fmt.Errorf("list: %w: printer pdf: the print spooler of the printer's peer does not answer", printing.ErrUnavailable), "The print service on that PC is not running."},
		{fmt.Errorf("peer x: %w", node.ErrPeerNotFound), "not known here"},
		{fmt.Errorf("open: %w", fs.ErrNotExist), "does not exist"},
		{context.DeadlineExceeded, "took too long"},
		{fmt.Errorf("settings: %w: port must be 1-65535", node.ErrUsage), "Port must be 1-65535."},
		{errors.New("dial udp 10.0.0.9:47220: sendto: no route to host"), genericMessage},
	} {
		got := humanError(tc.err)
		if !strings.Contains(got, tc.want) {
			t.Errorf("humanError(%v) = %q, want it to say %q", tc.err, got, tc.want)
		}
		if strings.Contains(got, "%!") || (tc.want != "Port must be 1-65535." && strings.Contains(got, tc.err.Error())) {
			t.Errorf("humanError(%v) leaks the raw error: %q", tc.err, got)
		}
	}
	if humanError(nil) != "" {
		t.Error("nil error has a message")
	}
	// Every sentinel a screen can meet has words of its own.
	for _, err := range []error{
		identity.ErrIdentityChanged, transport.ErrWrongPeer, identity.ErrBadCertificate, transport.ErrProtocol,
		transport.ErrFrameTooLarge, transport.ErrTruncated, transport.ErrAccessDenied, transport.ErrNotFound,
		transport.ErrUnreachable, transport.ErrClosed,
		shares.ErrDiskFull, shares.ErrHashMismatch, access.ErrBusy, access.ErrExists,
		printing.ErrQueueNotFound, printing.ErrQueueRejecting, printing.ErrUnsupportedFormat, printing.ErrJobVanished,
		printing.ErrJobFailed, printing.ErrJobCanceled, printing.ErrUnavailable, printing.ErrNotAuthorized,
		printing.ErrRefused, node.ErrPeerNotFound, node.ErrFingerprintMismatch, node.ErrAlreadyRunning,
		control.ErrNotRunning, control.ErrLost, ErrNoKeyring, errNoAutostart,
	} {
		if got := humanError(fmt.Errorf("doing something: %w", err)); got == genericMessage {
			t.Errorf("%v has no message of its own", err)
		}
	}
	// The transfer history keeps the classes: the GUI words them.
	if got := transferFailure(transfer.Info{Error: "reworded", Classes: transport.ClassesOf(fmt.Errorf("get docs/a: %w", shares.ErrDiskFull))}); !strings.Contains(got, "disk is full") {
		t.Errorf("history failure %q", got)
	}
}

// fakeSender records sends and queued sends.
type fakeSender struct{ to, files, queuedTo []string }

func (f *fakeSender) QueueSend(ref string, files []string) (transfer.Info, error) {
	f.queuedTo = append(f.queuedTo, ref)
	f.files = append(f.files, files...)
	return transfer.Info{ID: "q1", Kind: transfer.KindSend, PeerID: ref, Files: files, State: transfer.StateQueued, Total: 1234}, nil
}

func (f *fakeSender) Send(_ context.Context, ref string, files []string, _ func(node.Progress)) (remote.SendResult, error) {
	f.to = append(f.to, ref)
	f.files = append(f.files, files...)
	return remote.SendResult{Receiver: ref}, nil
}

func TestPeerPickerFromHandOff(t *testing.T) {
	a := test.NewTempApp(t)
	peers := newPeersModel()
	peers.reset(nil)
	snd := &fakeSender{}
	var last WindowState
	w := newMainWindow(a, self, peers, syncSvc(services{send: snd}), func(s WindowState) { last = s })
	t.Cleanup(w.win.Close)
	peers.reset([]discovery.Peer{
		peer("a", "alpha", true, "pinned", fpA),
		peer("b", "bravo", false, "pinned", fpB),
		peer("c", "charlie", true, "changed", fpB),
	})
	b := &controlBridge{pick: w.pickPeer}
	files := []string{"/home/x/report.pdf", "/home/x/photos"}
	if _, err := b.serveSend(context.Background(), OpSend, []byte(`{"files":["/home/x/report.pdf","/home/x/photos"]}`)); err != nil {
		t.Fatalf("send while starting: %v", err)
	}
	if last.Picker {
		t.Fatal("picker raised before the app runs")
	}
	b.setPhase(running) // raises what waited
	if !last.Picker || !reflect.DeepEqual(last.PickerFiles, files) || !last.Visible {
		t.Fatalf("state after hand-off %+v, want the picker for %v on a visible window", last, files)
	}
	// A second hand-off while the picker is open (Explorer: one process per
	// selected item) adds its files.
	if _, err := b.serveSend(context.Background(), OpSend, []byte(`{"files":["/home/x/photos","/home/x/notes.txt"]}`)); err != nil {
		t.Fatal(err)
	}
	files = append(files, "/home/x/notes.txt")
	if !last.Picker || !reflect.DeepEqual(last.PickerFiles, files) {
		t.Fatalf("state after a second hand-off %+v, want the picker for %v", last, files)
	}
	p := w.picker
	if len(p.rows) != 2 || p.rows[0].Name != "alpha" || p.rows[1].Name != "bravo" {
		t.Fatalf("picker offers %v, want alpha (online) then bravo (offline), never charlie (changed)", p.rows)
	}
	p.list.Select(0)
	test.Tap(p.send)
	if !reflect.DeepEqual(snd.to, []string{"a"}) || !reflect.DeepEqual(snd.files, files) {
		t.Errorf("sent %v to %v", snd.files, snd.to)
	}
	if last.Picker {
		t.Error("picker still reported open after sending")
	}

	// An offline PC is offered too: the files wait for it (queued sends).
	w.pickPeer([]string{"/home/x/minutes.txt"})
	w.picker.list.Select(1) // bravo, offline
	test.Tap(w.picker.send)
	if !reflect.DeepEqual(snd.queuedTo, []string{"b"}) || len(snd.to) != 1 {
		t.Errorf("queued for %v (sent to %v), want bravo queued and nothing more sent", snd.queuedTo, snd.to)
	}
	if n := last.Notified; len(n) == 0 || !strings.HasPrefix(n[len(n)-1], "Queued for bravo: minutes.txt: sent when bravo is back online") {
		t.Errorf("notifications %q, want one saying the files wait for bravo", n)
	}

	for _, bad := range []string{`{"files":[]}`, `{"files":["relative.txt"]}`, `nope`} {
		if _, err := b.serveSend(context.Background(), OpSend, []byte(bad)); !errors.Is(err, node.ErrUsage) {
			t.Errorf("gui.send %s: %v, want a usage error", bad, err)
		}
	}
}

// fakeTransfers is a transfer list with an update channel.
type fakeTransfers struct {
	list     []transfer.Info
	updates  chan transfer.Info
	canceled []string
}

func (f *fakeTransfers) TransferList() []transfer.Info { return f.list }
func (f *fakeTransfers) SubscribeTransfers() (<-chan transfer.Info, func()) {
	return f.updates, func() { close(f.updates) }
}
func (f *fakeTransfers) CancelTransfer(id string) error {
	f.canceled = append(f.canceled, id)
	return nil
}

func TestTransfersScreen(t *testing.T) {
	a := test.NewTempApp(t)
	t0 := time.Date(2026, 1, 2, 3, 4, 0, 0, time.Local)
	f := &fakeTransfers{updates: make(chan transfer.Info, 4), list: []transfer.Info{
		{ID: "1", Kind: transfer.KindDownload, Peer: "pc1", Path: "docs/old.pdf", Local: "/tmp/old.pdf", State: transfer.StateFailed, Bytes: 10, Total: 100, Started: t0, Error: "get: words that may change", Classes: transport.ClassesOf(transport.ErrUnreachable)},
		{ID: "2", Kind: transfer.KindUpload, Peer: "pc2", Path: "docs/new.iso", Local: "/tmp/new.iso", State: transfer.StateRunning, Bytes: 50 << 20, Total: 100 << 20, Rate: 10 << 20, ETA: 5, Started: t0.Add(time.Minute)},
		{ID: "3", Kind: transfer.KindReceive, Peer: "colleague", Path: "minutes.txt", Local: "/tmp/inbox/minutes.txt", State: transfer.StateDone, Bytes: 23, Total: 23, Started: t0.Add(-time.Minute)},
		{ID: "4", Kind: transfer.KindSend, Peer: "lab", PeerID: "p-lab", Path: "a.pdf and 1 more", Local: "/tmp/a.pdf", Files: []string{"/tmp/a.pdf", "/tmp/b.pdf"}, State: transfer.StateQueued, Total: 2048, Started: t0.Add(-2 * time.Minute)},
	}}
	ui := make(uiQueue, 16)
	s := newTransfersScreen(services{transfers: f, onUI: ui.do, bg: func(fn func()) { fn() }}, a, nil)
	w := test.NewTempWindow(t, s.view())
	s.win = w
	w.Resize(fyne.NewSize(800, 400))
	markup := test.RenderToMarkup(w.Canvas())
	for _, want := range []string{"new.iso   ↑ to pc2", "50.0 MiB of 100.0 MiB · 10.0 MiB/s · 5 s left", "old.pdf   ↓ from pc1", "Failed · The other PC does not answer", "minutes.txt   ← received from colleague", "a.pdf and 1 more   → sent to lab", "Queued · 2.0 KiB · sent when lab is back online"} {
		if !strings.Contains(markup, want) {
			t.Errorf("Transfers lacks %q", want)
		}
	}
	if strings.Index(markup, "new.iso") > strings.Index(markup, "old.pdf") {
		t.Error("the running transfer is not on top")
	}
	f.updates <- transfer.Info{ID: "2", Kind: transfer.KindUpload, Peer: "pc2", Path: "docs/new.iso", State: transfer.StateDone, Bytes: 100 << 20, Total: 100 << 20, Started: t0.Add(time.Minute), Ended: t0.Add(2 * time.Minute)}
	ui.runNext(t) // the update
	ui.runNext(t) // the one redraw it scheduled
	if markup := test.RenderToMarkup(w.Canvas()); !strings.Contains(markup, "Done · 100.0 MiB of 100.0 MiB") {
		t.Error("update not shown")
	}
	s.close()
}

func TestAutostart(t *testing.T) {
	if !autostartSupported() {
		t.Skip("XDG autostart is Linux/BSD")
	}
	dir := t.TempDir()
	a := autostart{userDir: filepath.Join(dir, "user"), systemDir: filepath.Join(dir, "system")}
	if a.Enabled() {
		t.Fatal("enabled with no entries")
	}
	// The package's system entry turns it on; the user's Hidden entry off.
	if err := os.MkdirAll(a.systemDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(a.file(a.systemDir), []byte("[Desktop Entry]\nType=Application\nExec=peerdesk gui\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if !a.Enabled() {
		t.Error("system entry not seen")
	}
	if err := a.Set(false, "/opt/Peer Desk/peerdesk"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(a.file(a.userDir))
	if a.Enabled() || !strings.Contains(string(b), "Hidden=true") || !strings.Contains(string(b), `Exec="/opt/Peer Desk/peerdesk" gui`) {
		t.Errorf("after off: enabled %v, entry:\n%s", a.Enabled(), b)
	}
	if err := a.Set(true, "/usr/bin/peerdesk"); err != nil || !a.Enabled() {
		t.Errorf("after on: enabled %v, %v", a.Enabled(), err)
	}
}

func TestNotifyReceived(t *testing.T) {
	f := &fakeTransfers{updates: make(chan transfer.Info, 4)}
	got := make(chan string, 4)
	stop := notifyReceived(f, func(title, text string) { got <- title + ": " + text })
	f.updates <- transfer.Info{Kind: transfer.KindDownload, State: transfer.StateDone, Local: "/x/a"}
	f.updates <- transfer.Info{Kind: transfer.KindReceive, State: transfer.StateRunning, Peer: "pc2", Local: "/in/b.pdf"}
	f.updates <- transfer.Info{Kind: transfer.KindReceive, State: transfer.StateDone, Peer: "pc2", Local: "/in/b.pdf", Bytes: 2048}
	select {
	case n := <-got:
		if n != "Received from pc2: b.pdf (2.0 KiB) is in /in" {
			t.Errorf("notification %q", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no notification for a received file")
	}
	stop()
	if len(got) != 0 {
		t.Errorf("extra notifications: %q", <-got)
	}
}

func TestPeerCardTrustFlow(t *testing.T) {
	// The code is bold monospace, a face the test theme lacks.
	test.NewTempApp(t).Settings().SetTheme(newAppTheme(themeLight))
	r := peerRow{ID: "pc2", Name: "reception", Online: true}
	for _, tc := range []struct {
		name   string
		entry  identity.TrustEntry
		button string
		want   string // the key verify must pin
		says   string
	}{
		{"pinned", identity.TrustEntry{ID: "pc2", State: identity.TrustPinned, Fingerprint: fpA}, "The codes match — mark as verified", fpA, "It must be:"},
		// Another key offered for its id: both codes shown, the new one
		// adopted only by the button; the trusted identity keeps working.
		{"another key offered", identity.TrustEntry{ID: "pc2", State: identity.TrustPinned, Fingerprint: fpA, Offered: fpB}, "The codes match — trust the new identity", fpB, "Another key was offered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var verified string
			browsed := false
			card := peerCard(r, tc.entry, "", self.Code, peerActions{
				verify: func(fp string) { verified = fp },
				browse: func() { browsed = true }, send: func() {}, forget: func() {},
			})
			w := test.NewTempWindow(t, card)
			w.Resize(fyne.NewSize(600, 500))
			markup := test.RenderToMarkup(w.Canvas())
			if !strings.Contains(markup, tc.says) || !strings.Contains(markup, identity.VerificationCode(tc.want)) {
				t.Errorf("card lacks %q or the code to compare:\n%s", tc.says, markup)
			}
			if tc.entry.Offered != "" && !strings.Contains(markup, identity.VerificationCode(tc.entry.Fingerprint)) {
				t.Errorf("card lacks the trusted code next to the new one:\n%s", markup)
			}
			b := findButton(t, card, tc.button)
			if b == nil {
				t.Fatalf("no %q button", tc.button)
			}
			test.Tap(b)
			if verified != tc.want {
				t.Errorf("verify pinned %q, want %q", verified, tc.want)
			}
			test.Tap(findButton(t, card, "Browse shares"))
			if !browsed {
				t.Errorf("browse with trust %s: ran %v", tc.name, browsed)
			}
		})
	}
}

// fakeSettings records changes.
type fakeSettings struct {
	v       settingsView
	changes []string
}

func (f *fakeSettings) LoadSettings(context.Context) (settingsView, error) { return f.v, nil }
func (f *fakeSettings) ChangeSetting(_ context.Context, k, v string) error {
	f.changes = append(f.changes, k+"="+v)
	switch k {
	case "name":
		if strings.Contains(v, "!") {
			return fmt.Errorf("%w: not a name", node.ErrUsage)
		}
		f.v.Name = v
	case "port":
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 65535 {
			return fmt.Errorf("%w: port must be 1-65535", node.ErrUsage)
		}
		f.v.Port = p
	case "auto_accept":
		f.v.AutoAccept = v == "true"
	case "background":
		f.v.Background = v == "true"
	case "upload_limit", "download_limit":
		r, err := human.ParseRate(v)
		if err != nil {
			return fmt.Errorf("%w: %w", node.ErrUsage, err)
		}
		if k == "upload_limit" {
			f.v.UploadLimit = r
		} else {
			f.v.DownloadLimit = r
		}
	}
	return nil
}

func TestSettingsScreenSavesWhatChanged(t *testing.T) {
	a, s, f := settingsOnFake(t)
	if s.name.Text != "front-desk" || s.port.Text != "47220" || s.inbox.Text != "/home/x/Downloads/Peerdesk" {
		t.Fatalf("loaded %q %q %q", s.name.Text, s.port.Text, s.inbox.Text)
	}
	if s.upLimit.Text != "" || s.downLimit.Text != "2 MB/s" {
		t.Fatalf("limits shown as %q and %q, want none and 2 MB/s", s.upLimit.Text, s.downLimit.Text)
	}
	s.port.SetText("47300")
	s.auto.SetChecked(true)
	s.upLimit.SetText("10 MB/s")
	s.bg.SetChecked(true)
	s.save()
	if want := []string{"port=47300", "auto_accept=true", "background=true", "upload_limit=10 MB/s"}; !reflect.DeepEqual(f.changes, want) {
		t.Errorf("changed %v, want %v", f.changes, want)
	}
	if s.upLimit.Text != "10 MB/s" || f.v.UploadLimit != 10_000_000 {
		t.Errorf("after save: upload limit shown %q, set %d", s.upLimit.Text, f.v.UploadLimit)
	}
	// Emptied, a limit is removed; written differently, the same limit is
	// no change.
	f.changes = nil
	s.upLimit.SetText("80 Mbit/s")
	s.downLimit.SetText("")
	s.save()
	if want := []string{"download_limit="}; !reflect.DeepEqual(f.changes, want) || f.v.DownloadLimit != 0 {
		t.Errorf("changed %v (download limit %d), want %v", f.changes, f.v.DownloadLimit, want)
	}
	s.look.SetSelected(themeDark)
	if got := a.Preferences().String(prefTheme); got != themeDark {
		t.Errorf("theme choice %q not kept", got)
	}
	if v := a.Settings().Theme().Color("background", theme.VariantLight); v != theme.DefaultTheme().Color("background", theme.VariantDark) {
		t.Errorf("dark look not applied: background %v", v)
	}
}

// settingsOnFake is the Settings screen in a test window over fake
// settings: front-desk on port 47220.
func settingsOnFake(t *testing.T) (fyne.App, *settingsScreen, *fakeSettings) {
	t.Helper()
	a := test.NewTempApp(t)
	f := &fakeSettings{v: settingsView{Settings: node.Settings{Name: "front-desk", Port: 47220, DownloadLimit: 2_000_000}, InboxDir: "/home/x/Downloads/Peerdesk"}}
	s := newSettingsScreen(syncSvc(services{settings: f}), a, nil)
	s.autostart = autostart{userDir: t.TempDir(), systemDir: t.TempDir()}
	s.win = test.NewTempWindow(t, s.view())
	return a, s, f
}

// TestSettingsKeepWhatWasTyped (R2 7/7 item 10): a port or name that
// cannot be right is said before anything changes and stays as typed; a
// value the core refuses is said too, without the screen reloading over
// what was typed.
func TestSettingsKeepWhatWasTyped(t *testing.T) {
	_, s, f := settingsOnFake(t)
	s.port.SetText("99999")
	s.name.SetText("reception")
	s.save()
	if len(f.changes) != 0 || s.port.Text != "99999" || s.name.Text != "reception" || !strings.HasPrefix(s.status.Text, "Not saved: a port from 1 to 65535") {
		t.Errorf("bad port: changes %v, port %q name %q, status %q", f.changes, s.port.Text, s.name.Text, s.status.Text)
	}
	s.port.SetText("47220")
	s.upLimit.SetText("fast please")
	s.save()
	if len(f.changes) != 0 || s.upLimit.Text != "fast please" || !strings.HasPrefix(s.status.Text, "Not saved: a limit like 10 MB/s") {
		t.Errorf("bad limit: changes %v, limit %q, status %q", f.changes, s.upLimit.Text, s.status.Text)
	}
	s.upLimit.SetText("")
	s.port.SetText("47221")
	s.name.SetText("front desk!")
	s.save()
	if !slices.Contains(f.changes, "name=front desk!") || s.name.Text != "front desk!" || !strings.HasPrefix(s.status.Text, "Not saved") {
		t.Errorf("a name the core refuses: changes %v, name %q, status %q", f.changes, s.name.Text, s.status.Text)
	}
}

// fakePrint is a PC sharing one printer.
type fakePrint struct {
	printed []string
	added   []string
	asked   []node.Creds // credentials of each Printers call
}

func (f *fakePrint) PrinterAdd(_ context.Context, rp remote.Path, _ node.Creds) (node.AddedPrinterInfo, error) {
	f.added = append(f.added, rp.Peer+":"+rp.Share)
	return node.AddedPrinterInfo{AddedPrinter: node.AddedPrinter{Queue: "reception-" + rp.Share}}, nil
}

func (f *fakePrint) Printers(_ context.Context, ref string, c node.Creds) ([]node.PrinterInfo, error) {
	f.asked = append(f.asked, c)
	return []node.PrinterInfo{{Name: "office", State: "idle"}, {Name: "label", State: "paused"}}, nil
}

func (f *fakePrint) Print(_ context.Context, rp remote.Path, file string, _ node.Creds, opt node.PrintOptions, progress func(node.PrintJob)) (node.PrintJob, error) {
	f.printed = append(f.printed, fmt.Sprintf("%s:%s %s x%d wait=%v", rp.Peer, rp.Share, file, opt.Copies, opt.Wait))
	progress(node.PrintJob{Printer: rp.Share, JobID: 7, State: "processing"})
	if rp.Share == "label" {
		return node.PrintJob{}, fmt.Errorf("print: %w", printing.ErrQueueRejecting)
	}
	return node.PrintJob{Printer: rp.Share, JobID: 7, State: "completed"}, nil
}

func TestPrintScreen(t *testing.T) {
	test.NewTempApp(t)
	peers := newPeersModel()
	peers.reset([]discovery.Peer{peer("pc2", "reception", true, "pinned", fpA)})
	f := &fakePrint{}
	s := newPrintScreen(syncSvc(services{print: f}), peers, nil)
	w := test.NewTempWindow(t, s.view())
	s.win = w
	w.Resize(fyne.NewSize(800, 600))
	if len(s.peerSel.Options) != 1 {
		t.Fatalf("PCs offered %v", s.peerSel.Options)
	}
	s.peerSel.SetSelectedIndex(0)
	if !reflect.DeepEqual(s.prSel.Options, []string{"office", "label (paused)"}) || s.prSel.Selected != "office" {
		t.Fatalf("printers %v, chosen %q", s.prSel.Options, s.prSel.Selected)
	}
	if !s.print.Disabled() {
		t.Error("Print enabled with no file")
	}
	s.file.SetText("/home/x/report.pdf")
	s.copies.SetText("2")
	test.Tap(s.print)
	if want := []string{"pc2:office /home/x/report.pdf x2 wait=true"}; !reflect.DeepEqual(f.printed, want) {
		t.Errorf("printed %v, want %v", f.printed, want)
	}
	if s.status.Text != "Job 7 on office: completed" {
		t.Errorf("job line %q", s.status.Text)
	}
	s.prSel.SetSelectedIndex(1)
	test.Tap(s.print)
	if !strings.Contains(s.status.Text, "paused or not accepting") {
		t.Errorf("paused printer says %q", s.status.Text)
	}
	// Add to my printers: the chosen printer goes into the print system.
	s.prSel.SetSelectedIndex(0)
	if s.add.Disabled() {
		t.Fatal("Add to my printers disabled with a printer chosen")
	}
	test.Tap(s.add)
	if want := []string{"pc2:office"}; !reflect.DeepEqual(f.added, want) {
		t.Errorf("added %v, want %v", f.added, want)
	}
	if !strings.Contains(s.status.Text, `"reception-office"`) || !strings.Contains(s.status.Text, "print dialog") {
		t.Errorf("after adding: %q", s.status.Text)
	}
}

// fakeNetwork answers the network check with a fixed report.
type fakeNetwork struct{ r node.DoctorReport }

func (f fakeNetwork) NetworkCheck(context.Context) node.DoctorReport { return f.r }

func TestSettingsNetworkCheck(t *testing.T) {
	a := test.NewTempApp(t)
	f := &fakeSettings{v: settingsView{Settings: node.Settings{Name: "front-desk", Port: 47220}}}
	problem := node.DoctorProblem{Peer: "p", Problem: "Desk 2 reaches this PC, but this PC cannot reach Desk 2.", Fix: "On Desk 2, allow Peerdesk (UDP port 47220) in its firewall."}
	s := newSettingsScreen(syncSvc(services{settings: f, network: fakeNetwork{node.DoctorReport{Port: 47220, Problems: []node.DoctorProblem{problem}}}}), a, nil)
	w := test.NewTempWindow(t, s.view())
	s.win = w
	if s.check == nil {
		t.Fatal("no Network check button")
	}
	test.Tap(s.check)
	if got := s.status.Text; got != "Network check: 1 problem(s)." {
		t.Errorf("status %q", got)
	}
	shown := ""
	for _, o := range w.Canvas().Overlays().List() {
		shown += labelsIn(o)
	}
	if !strings.Contains(shown, problem.Fix) {
		t.Errorf("dialog shows %q, want the fix %q", shown, problem.Fix)
	}
	if s.check.Disabled() {
		t.Error("button left disabled after the check")
	}
}

// labelsIn is the text of every label under o.
func labelsIn(o fyne.CanvasObject) string {
	switch x := o.(type) {
	case *widget.Label:
		return x.Text + "\n"
	case *fyne.Container:
		out := ""
		for _, c := range x.Objects {
			out += labelsIn(c)
		}
		return out
	case fyne.Widget:
		out := ""
		for _, c := range test.WidgetRenderer(x).Objects() {
			out += labelsIn(c)
		}
		return out
	}
	return ""
}

// Cancelling one's own download is not an error to show (R2 7/7, 8).
func TestShowErrorQuietOnCancel(t *testing.T) {
	test.NewTempApp(t)
	w := test.NewTempWindow(t, widget.NewLabel(""))
	showError(w, "download x", fmt.Errorf("get: %w", context.Canceled))
	if n := len(w.Canvas().Overlays().List()); n != 0 {
		t.Fatalf("%d dialogs after a canceled download, want none", n)
	}
	showError(w, "download x", fmt.Errorf("get: %w", transport.ErrStalled))
	if n := len(w.Canvas().Overlays().List()); n != 1 {
		t.Fatalf("%d dialogs after a failed download, want 1", n)
	}
}

// Settings › Open log opens the log the app writes (R2 7/7, 8).
func TestSettingsOpenLog(t *testing.T) {
	a := test.NewTempApp(t)
	f := &fakeSettings{v: settingsView{Settings: node.Settings{Name: "front-desk", Port: 47220}}}
	s := newSettingsScreen(syncSvc(services{settings: f, logPath: "/home/ana/.peerdesk/peerdesk.log"}), a, nil)
	test.NewTempWindow(t, s.view())
	if s.openLog == nil {
		t.Fatal("no Open log button")
	}
	test.Tap(s.openLog)
	if got := s.status.Text; got != "Opened /home/ana/.peerdesk/peerdesk.log." {
		t.Errorf("status %q", got)
	}
	s2 := newSettingsScreen(syncSvc(services{settings: f}), a, nil)
	test.NewTempWindow(t, s2.view())
	if s2.openLog != nil {
		t.Error("an Open log button without a log")
	}
}

// TestLoginsSharedAcrossScreens: the login given on one screen is the
// one every screen uses for that PC (Print lists printers with the login
// Files got), and Print can log in itself.
func TestLoginsSharedAcrossScreens(t *testing.T) {
	test.NewTempApp(t)
	peers := newPeersModel()
	peers.reset([]discovery.Peer{peer("pc2", "reception", true, "pinned", fpA)})
	f := &fakePrint{}
	svc := syncSvc(services{print: f})
	svc.defaults()
	alice := node.Creds{User: "alice", Password: "pw"}
	// Files logged in to pc2 (browser model and Print share svc.logins).
	m := newBrowserModel(nil, svc.onUI, svc.bg)
	m.logins = svc.logins
	m.SetCreds("pc2", alice)
	s := newPrintScreen(svc, peers, nil)
	w := test.NewTempWindow(t, s.view())
	s.win = w
	if !s.login.Disabled() {
		t.Error("Log in… enabled before a PC is chosen")
	}
	s.peerSel.SetSelectedIndex(0)
	if len(f.asked) != 1 || f.asked[0] != alice {
		t.Fatalf("printers asked with %+v, want Files' login %+v", f.asked, alice)
	}
	if s.login.Disabled() {
		t.Fatal("Log in… disabled with a PC chosen")
	}
	// Logging in on Print: the form's Log in keeps the login for every
	// screen and lists the printers again with it.
	test.Tap(s.login)
	form := w.Canvas().Overlays().Top()
	if form == nil {
		t.Fatal("no login dialog")
	}
	entries := formEntriesIn(form)
	if len(entries) < 3 || entries[0].Text != "alice" {
		t.Fatalf("login dialog entries %d, account %+v", len(entries), entries)
	}
	entries[0].SetText("bob")
	entries[1].SetText("bob-pw")
	var submit *widget.Button
	walk(form, func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok && b.Text == "Log in" {
			submit = b
		}
	})
	if submit == nil {
		t.Fatal("no Log in button")
	}
	test.Tap(submit)
	bob := node.Creds{User: "bob", Password: "bob-pw"}
	if got := m.Creds(); m.Peer == "" && got != (node.Creds{}) {
		t.Fatalf("model without a peer has %+v", got)
	}
	if c, _ := svc.logins.Get("pc2"); c != bob {
		t.Errorf("session login after Print's Log in: %+v", c)
	}
	if last := f.asked[len(f.asked)-1]; last != bob {
		t.Errorf("printers listed again with %+v, want %+v", last, bob)
	}
}

// walk calls fn on o and every object under it, as labelsIn goes.
func walk(o fyne.CanvasObject, fn func(fyne.CanvasObject)) {
	fn(o)
	switch x := o.(type) {
	case *fyne.Container:
		for _, c := range x.Objects {
			walk(c, fn)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(x).Objects() {
			walk(c, fn)
		}
	}
}

// TestLoginRefusalSaidInTheDialog: after a refusal the login dialog says
// why, keeps what was typed (the account password too) and puts the
// cursor in the password.
func TestLoginRefusalSaidInTheDialog(t *testing.T) {
	test.NewTempApp(t)
	w := test.NewTempWindow(t, widget.NewLabel(""))
	svc := syncSvc(services{})
	svc.defaults()
	svc.logins.Set("pc1", node.Creds{User: "alice", Password: "typed-pw", SharePassword: "typed-share"})
	refused := fmt.Errorf("%w: wrong account name or password", transport.ErrAccessDenied)
	askLogin(w, svc, "pc1", "Front desk", refused, func(node.Creds) {})
	form := w.Canvas().Overlays().Top()
	if form == nil {
		t.Fatal("no login dialog")
	}
	if text := labelsIn(form); !strings.Contains(text, humanError(refused)) {
		t.Errorf("dialog does not say why: %q", text)
	}
	entries := formEntriesIn(form)
	if len(entries) != 3 || entries[0].Text != "alice" || entries[1].Text != "typed-pw" || entries[2].Text != "typed-share" {
		t.Fatalf("typed values not kept: %d entries", len(entries))
	}
	if w.Canvas().Focused() != entries[1] {
		t.Errorf("focus on %T, want the password", w.Canvas().Focused())
	}
}

// formEntriesIn are the form entries of a dialog, in order.
func formEntriesIn(o fyne.CanvasObject) []*formEntry {
	var entries []*formEntry
	walk(o, func(o fyne.CanvasObject) {
		if e, ok := o.(*formEntry); ok {
			entries = append(entries, e)
		}
	})
	return entries
}

// TestLoginDialogKeys (R2 7/7 item 4): the login dialog opens with the
// cursor in a field; Enter logs in with what was typed, Esc closes it and
// logs in with nothing.
func TestLoginDialogKeys(t *testing.T) {
	test.NewTempApp(t)
	w := test.NewTempWindow(t, widget.NewLabel(""))
	svc := syncSvc(services{})
	svc.defaults()
	var got []node.Creds
	askLogin(w, svc, "pc1", "Front desk", nil, func(c node.Creds) { got = append(got, c) })
	form := w.Canvas().Overlays().Top()
	entries := formEntriesIn(form)
	if len(entries) != 3 {
		t.Fatalf("%d form entries in the login dialog, want 3", len(entries))
	}
	if w.Canvas().Focused() != entries[0] {
		t.Fatalf("focus on %T, want the account", w.Canvas().Focused())
	}
	test.Type(entries[0], "alice")
	w.Canvas().Focus(entries[1])
	test.Type(entries[1], "s3cret-pw")
	entries[1].TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if len(got) != 1 || got[0] != (node.Creds{User: "alice", Password: "s3cret-pw"}) {
		t.Fatalf("Enter logged in with %+v, want alice and the typed password", got)
	}
	if w.Canvas().Overlays().Top() != nil {
		t.Error("the dialog stayed open after Enter")
	}
	if c, _ := svc.logins.Get("pc1"); c.User != "alice" {
		t.Errorf("the session's login for pc1 is %+v", c)
	}

	askLogin(w, svc, "pc1", "Front desk", nil, func(c node.Creds) { got = append(got, c) })
	entries = formEntriesIn(w.Canvas().Overlays().Top())
	entries[1].TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if w.Canvas().Overlays().Top() != nil {
		t.Error("the dialog stayed open after Esc")
	}
	if len(got) != 1 {
		t.Errorf("Esc logged in: %+v", got)
	}
}

// A multi-source download that left a source out for sending wrong data
// says so on its row (R2 6/7: the bad peer is named in the history).
func TestTransferStatusNamesDroppedSources(t *testing.T) {
	in := transfer.Info{State: transfer.StateDone, Bytes: 96 << 20, Total: 96 << 20, Ended: time.Now(), Dropped: []string{"h1"}}
	got := transferStatus(in)
	if !strings.HasPrefix(got, "Done · 96.0 MiB of 96.0 MiB") || !strings.HasSuffix(got, " · h1 sent wrong data and was left out") {
		t.Errorf("status %q", got)
	}
	in.Dropped = nil
	if got := transferStatus(in); strings.Contains(got, "left out") {
		t.Errorf("status without a dropped source %q", got)
	}
}

// gui.show's Print deep link (PC:PRINTER) chooses the PC by name and the
// printer once its list is in, and the screen reports what it shows.
func TestPrintScreenChooseAndState(t *testing.T) {
	test.NewTempApp(t)
	peers := newPeersModel()
	peers.reset([]discovery.Peer{peer("pc2", "reception", true, "pinned", fpA)})
	s := newPrintScreen(syncSvc(services{print: &fakePrint{}}), peers, nil)
	w := test.NewTempWindow(t, s.view())
	s.win = w
	s.choose("Reception", "label")
	st := s.state(nil)
	if !strings.HasPrefix(st.PC, "reception (") || !reflect.DeepEqual(st.Printers, []string{"office", "label (paused)"}) || st.Printer != "label (paused)" || st.CanPrint {
		t.Fatalf("after choose: %+v", st)
	}
	w.Canvas().Focus(s.file)
	test.Type(s.file, "/home/x/report.pdf")
	if st := s.state(w.Canvas().Focused()); st.Focus != "file" || st.File != "/home/x/report.pdf" || !st.CanPrint {
		t.Errorf("typing the file: %+v", st)
	}
	s.choose("nobody", "")
	if st := s.state(nil); !strings.HasPrefix(st.PC, "reception (") {
		t.Errorf("an unknown PC changed the choice: %+v", st)
	}
}

// A printer listed among a PC's shares opens the Print screen on it (as
// Windows opens a printer listed among a PC's shares), not nothing.
func TestBrowsePrinterShareOpensPrint(t *testing.T) {
	m := newBrowserModel(newFakeFiles(), func(f func()) { f() }, func(f func()) { f() })
	var opened []string
	m.openPrinter = func(peer, printer string) { opened = append(opened, peer+":"+printer) }
	m.OpenPeer("pc1", "Front desk")
	m.Open(browseRow{Name: "office", Share: true, Kind: access.KindPrinter, Right: access.RightRO})
	if !reflect.DeepEqual(opened, []string{"pc1:office"}) || m.Share != "" {
		t.Errorf("opening the printer share: opened %v, share now %q; want the Print screen on pc1:office and the list unchanged", opened, m.Share)
	}
}
