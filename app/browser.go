package app

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/node"
	"github.com/peerdesk/peerdesk/shares/remote"
)

// browserScreen is the Files tab: a peer's shares and folders, with
// breadcrumbs, sortable columns, download, upload (button or drop) and new
// folder.
type browserScreen struct {
	svc   services
	win   fyne.Window
	peers *peersModel
	m     *browserModel

	peerSel  *widget.Select
	peerIDs  map[string]string // option label → peer id
	crumbs   *fyne.Container
	table    *keyTable
	status   *widget.Label
	selected int // row index, -1 for none
	download *widget.Button
	uploadF  *widget.Button
	uploadD  *widget.Button
	mkdir    *widget.Button
	act      *activity // what the last download or upload did
	// login says who the screen is logged in as on the PC on show, and
	// switches account or logs out (accountMenu, while logged in).
	login       *widget.Button
	accountMenu *fyne.Menu
	// tableBox holds the table, which retheme replaces.
	tableBox *fyne.Container
}

func newBrowserScreen(svc services, peers *peersModel, win fyne.Window) *browserScreen {
	s := &browserScreen{svc: svc, win: win, peers: peers, selected: -1, peerIDs: map[string]string{}, act: newActivity()}
	s.m = newBrowserModel(svc.files, svc.onUI, svc.bg)
	if svc.logins != nil {
		s.m.logins = svc.logins
	}
	s.m.changed = s.refresh
	s.m.askCreds = s.askCreds
	return s
}

var browseCols = [...]struct {
	title string
	width float32
	sort  int
}{{"Name", 380, sortName}, {"Size", 110, sortSize}, {"Modified", 170, sortDate}}

func (s *browserScreen) view() fyne.CanvasObject {
	s.peerSel = widget.NewSelect(nil, func(label string) {
		if id, ok := s.peerIDs[label]; ok && id != s.m.Peer {
			s.selected = -1
			name := strings.SplitN(label, " (", 2)[0]
			if p, ok := s.peers.peers[id]; ok {
				name = p.Name // the label may be shortened
			}
			s.m.OpenPeer(id, name)
		}
	})
	s.peerSel.PlaceHolder = "Choose a PC…"
	s.peers.onChange(s.syncPeers)

	s.crumbs = container.NewHBox()
	s.table = s.newTable()
	s.tableBox = container.NewStack(s.table)

	up := widget.NewButtonWithIcon("", theme.NavigateBackIcon(), func() { s.selected = -1; s.m.Up() })
	reload := widget.NewButtonWithIcon("", theme.ViewRefreshIcon(), s.m.Load)
	s.login = widget.NewButtonWithIcon("Log in…", theme.AccountIcon(), s.tapLogin)
	login := s.login
	s.download = widget.NewButtonWithIcon("Download", theme.DownloadIcon(), s.chooseDownload)
	s.uploadF = widget.NewButtonWithIcon("Upload file", theme.UploadIcon(), s.chooseUploadFile)
	s.uploadD = widget.NewButtonWithIcon("Upload folder", theme.FolderIcon(), s.chooseUploadFolder)
	s.mkdir = widget.NewButtonWithIcon("New folder", theme.FolderNewIcon(), s.newFolder)
	// The path scrolls rather than widening the window.
	top := container.NewBorder(nil, nil, container.NewHBox(s.peerSel, up, reload), login, container.NewHScroll(s.crumbs))
	tools := container.NewHBox(s.download, s.uploadF, s.uploadD, s.mkdir)
	s.status = widget.NewLabel("")
	s.status.Wrapping = fyne.TextWrapWord
	s.syncPeers()
	s.refresh()
	return container.NewBorder(container.NewVBox(top, tools), container.NewVBox(s.act.box, s.status), nil, nil, s.tableBox)
}

// newTable is the folder table. A new one replaces the old after a theme
// change: Fyne's table never repaints its column lines, so they kept the
// old theme's colour.
func (s *browserScreen) newTable() *keyTable {
	t := &keyTable{back: func() { s.selected = -1; s.m.Up() }}
	t.Length = func() (int, int) { return len(s.m.Rows), len(browseCols) }
	t.CreateCell = func() fyne.CanvasObject {
		l := widget.NewLabel("")
		l.Truncation = fyne.TextTruncateEllipsis
		return container.NewBorder(nil, nil, widget.NewIcon(nil), nil, l)
	}
	t.UpdateCell = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Row >= len(s.m.Rows) {
			return
		}
		s.setCell(o.(*fyne.Container), id.Col, s.m.Rows[id.Row])
	}
	t.ExtendBaseWidget(t)
	t.ShowHeaderRow = true
	t.CreateHeader = func() fyne.CanvasObject { return widget.NewButton("", nil) }
	t.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col < 0 || id.Col >= len(browseCols) {
			return
		}
		b := o.(*widget.Button)
		c := browseCols[id.Col]
		b.SetText(c.title)
		b.SetIcon(nil)
		if s.m.SortBy == c.sort {
			if s.m.Desc {
				b.SetIcon(theme.MenuDropUpIcon())
			} else {
				b.SetIcon(theme.MenuDropDownIcon())
			}
		}
		b.OnTapped = func() { s.m.SortOn(c.sort) }
	}
	for i, c := range browseCols {
		t.SetColumnWidth(i, c.width)
	}
	t.OnSelected = func(id widget.TableCellID) {
		if id.Row < 0 || id.Row >= len(s.m.Rows) {
			return
		}
		r := s.m.Rows[id.Row]
		// Folders and shares open (a printer share on the Print screen);
		// files are picked.
		if r.Dir || r.Share {
			s.selected = -1
			t.UnselectAll()
			s.m.Open(r)
			return
		}
		s.selected = id.Row
		s.syncButtons()
	}
	return t
}

// retheme redraws what Fyne leaves in the old theme's colours.
func (s *browserScreen) retheme() {
	if s.tableBox == nil {
		return
	}
	s.table = s.newTable()
	s.tableBox.Objects = []fyne.CanvasObject{s.table}
	s.tableBox.Refresh()
	s.refresh()
}

func (s *browserScreen) setCell(c *fyne.Container, col int, r browseRow) {
	l := c.Objects[0].(*widget.Label)
	icon := c.Objects[1].(*widget.Icon)
	icon.Hide()
	switch col {
	case 0:
		icon.Show()
		switch {
		case r.Share && r.Right == access.RightNone:
			icon.SetResource(lockIcon)
		case r.Share && r.Kind == access.KindPrinter:
			icon.SetResource(theme.DocumentPrintIcon())
		case r.Dir:
			icon.SetResource(theme.FolderIcon())
		default:
			icon.SetResource(theme.FileIcon())
		}
		name := r.Name
		switch {
		case r.Share && r.Right == access.RightNone:
			name += "  (locked: log in to open)"
		case r.Password:
			name += "  (needs share password)"
		}
		l.SetText(name)
	case 1:
		switch {
		case r.Share:
			l.SetText(rightLabel(r.Right))
		case r.Dir:
			l.SetText("—")
		default:
			l.SetText(humanBytes(r.Size))
		}
	case 2:
		if r.Share {
			l.SetText(string(r.Kind))
		} else {
			l.SetText(humanTime(r.Mtime))
		}
	}
}

// rightLabel says what a right allows.
func rightLabel(r access.Right) string {
	switch r {
	case access.RightRO:
		return "read only"
	case access.RightRW:
		return "read & write"
	case access.RightWO:
		return "drop box"
	case access.RightPrint:
		return "print"
	}
	return "no access"
}

// Widths in runes of names on buttons and in the PC chooser, and of each
// folder in the path: long names are shortened (shortName) so that the
// window keeps its size and Log in… stays on screen.
const (
	maxButtonName = 28
	maxCrumb      = 24
)

// syncPeers keeps the PC chooser in step with the online peers.
func (s *browserScreen) syncPeers() {
	if s.peerSel == nil {
		return
	}
	clear(s.peerIDs)
	var opts []string
	names := map[string]int{}
	rows := onlineRows(s.peers)
	for _, r := range rows {
		names[r.Name]++
	}
	for _, r := range rows {
		label := shortName(r.Name, maxButtonName)
		if names[r.Name] > 1 || label != r.Name {
			label += " (" + shortID(r.ID) + ")"
		}
		s.peerIDs[label] = r.ID
		opts = append(opts, label)
	}
	s.peerSel.SetOptions(opts)
}

// openPeer shows a peer's shares (from the Peers tab).
func (s *browserScreen) openPeer(id string) {
	for label, pid := range s.peerIDs {
		if pid == id {
			s.peerSel.SetSelected(label) // opens it through the callback
			return
		}
	}
	if p, ok := s.peers.peers[id]; ok {
		s.m.OpenPeer(id, p.Name)
	}
}

func (s *browserScreen) refresh() {
	if s.table == nil {
		return
	}
	s.crumbs.RemoveAll()
	for i, c := range s.m.Crumbs() {
		if i > 0 {
			s.crumbs.Add(widget.NewLabel("›"))
		}
		b := widget.NewButton(shortName(c.Label, maxCrumb), func() { s.selected = -1; s.m.Go(c) })
		b.Importance = widget.LowImportance
		s.crumbs.Add(b)
	}
	switch {
	case s.m.Peer == "":
		s.status.SetText("Choose a PC to see what it shares.")
	case s.m.Loading:
		s.status.SetText("Loading…")
	case s.m.Err != nil:
		s.status.SetText(humanError(s.m.Err))
	case s.m.Share == "" && len(s.m.Rows) == 0:
		s.status.SetText(s.m.PeerName + " shares nothing you may see. Log in with an account of that PC to see more.")
	case s.m.Share == "":
		s.status.SetText("Click a share to open it.")
	case s.m.DropBox():
		s.status.SetText("Add files here: " + s.m.Share + " is a drop box. Drop files on the window or use Upload file; what it holds stays private to its owner.")
	case len(s.m.Rows) == 0:
		s.status.SetText("This folder is empty. Drop files on the window to upload them.")
	default:
		s.status.SetText(fmt.Sprintf("%d items. Drop files on the window to upload them here.", len(s.m.Rows)))
	}
	if s.selected >= len(s.m.Rows) {
		s.selected = -1
	}
	s.table.Refresh()
	s.syncButtons()
	s.syncLogin()
}

// syncLogin shows who the screen is logged in as on the PC on show.
func (s *browserScreen) syncLogin() {
	if s.login == nil {
		return
	}
	if c := s.m.Creds(); c.User != "" && s.m.Peer != "" {
		s.login.SetText("Logged in as " + shortName(c.User, 20) + " ▾")
	} else {
		s.login.SetText("Log in…")
	}
	if s.m.Peer == "" {
		s.login.Disable()
	} else {
		s.login.Enable()
	}
}

// tapLogin asks for an account, or, logged in, offers to switch account
// or log out.
func (s *browserScreen) tapLogin() {
	if s.m.Creds().User == "" {
		s.askCreds(s.m.PeerName, nil, s.m.Load)
		return
	}
	s.accountMenu = fyne.NewMenu("",
		fyne.NewMenuItem("Switch account…", func() { s.askCreds(s.m.PeerName, nil, s.m.Load) }),
		fyne.NewMenuItem("Log out", s.logOut),
	)
	if s.win == nil {
		return
	}
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(s.login).Add(fyne.NewPos(0, s.login.Size().Height))
	widget.ShowPopUpMenuAtPosition(s.accountMenu, s.win.Canvas(), pos)
}

// logOut goes back to guest on the PC on show (every screen: the login is
// the session's) and forgets the password the keyring kept for it.
func (s *browserScreen) logOut() {
	peer := s.m.Peer
	if err := s.m.logins.LogOut(peer); err != nil {
		showError(s.win, "forget the password", err)
	}
	s.m.Share, s.m.Dir = "", ""
	s.m.Load()
}

func (s *browserScreen) syncButtons() {
	set := func(b *widget.Button, on bool) {
		if on {
			b.Enable()
		} else {
			b.Disable()
		}
	}
	inShare := s.m.Share != ""
	set(s.download, s.m.CanRead())
	set(s.uploadF, s.m.CanWrite())
	set(s.uploadD, s.m.CanWrite())
	set(s.mkdir, s.m.CanWrite())
	if s.selected >= 0 {
		s.download.SetText("Download " + shortName(s.m.Rows[s.selected].Name, maxButtonName))
	} else if inShare {
		s.download.SetText("Download this folder")
	} else {
		s.download.SetText("Download")
	}
}

// canUpload reports whether a drop can go into the current folder.
func (s *browserScreen) canUpload() bool { return s.m.CanWrite() }

// askCreds asks for an account of the peer (and a share password): the
// session's login for that PC, used by every screen.
func (s *browserScreen) askCreds(peerName string, refused error, retry func()) {
	askLogin(s.win, s.svc, s.m.Peer, peerName, refused, func(node.Creds) { retry() })
}

func (s *browserScreen) chooseDownload() {
	rp := s.m.Target()
	name := s.m.Share
	if s.m.Dir != "" {
		name = path.Base(s.m.Dir)
	}
	if s.selected >= 0 && s.selected < len(s.m.Rows) {
		r := s.m.Rows[s.selected]
		rp, name = s.m.PathOf(r), r.Name
	}
	creds := s.m.Creds()
	pickFiles(s.win, s.svc, pickRequest{title: "Download " + name + " into…", accept: "Download here", folder: true}, func(paths []string) {
		s.downloadInto(rp, name, creds, paths[0])
	})
}

// downloadInto fetches rp (called name) into the local folder dest,
// saying on this screen how far it is and where the files went.
func (s *browserScreen) downloadInto(rp remote.Path, name string, creds node.Creds, dest string) {
	s.act.start("Downloading " + name + " from " + s.m.PeerName + "…")
	progress := func(p node.Progress) { s.svc.onUI(func() { s.act.progress(p) }) }
	s.svc.bg(func() {
		res, err := s.svc.files.Get(context.Background(), rp, creds, remote.GetOptions{Dest: dest}, progress)
		s.svc.onUI(func() {
			if err != nil {
				s.act.finish("Download of "+name+" stopped: "+humanError(err), "")
				showError(s.win, "download "+name, err)
				return
			}
			text := fmt.Sprintf("Downloaded %s: %s in %s", name, filesAndBytes(len(res.Files), res.Bytes), dest)
			s.act.finish(text, dest)
			fyne.CurrentApp().SendNotification(fyne.NewNotification("Download finished", text))
		})
	})
}

// filesAndBytes is "1 file, 2.0 KiB" or "3 files, 1.5 MiB".
func filesAndBytes(n int, size int64) string {
	files := "files"
	if n == 1 {
		files = "file"
	}
	return fmt.Sprintf("%d %s, %s", n, files, humanBytes(size))
}

// here names the folder on show for a file chooser's title.
func (s *browserScreen) here() string {
	return s.m.PeerName + ":" + path.Join(s.m.Share, s.m.Dir)
}

func (s *browserScreen) chooseUploadFile() {
	pickFiles(s.win, s.svc, pickRequest{title: "Upload files to " + s.here(), accept: "Upload", multiple: true}, s.upload)
}

func (s *browserScreen) chooseUploadFolder() {
	pickFiles(s.win, s.svc, pickRequest{title: "Upload a folder to " + s.here(), accept: "Upload", folder: true}, s.upload)
}

// upload puts local files and folders into the current folder.
func (s *browserScreen) upload(paths []string) {
	if !s.m.CanWrite() {
		return
	}
	rp, creds := s.m.Target(), s.m.Creds()
	what := filesSummary(paths)
	where := s.m.PeerName + ":" + path.Join(rp.Share, rp.Path)
	s.act.start("Uploading " + what + " to " + where + "…")
	progress := func(p node.Progress) { s.svc.onUI(func() { s.act.progress(p) }) }
	s.svc.bg(func() {
		res, err := s.svc.files.Put(context.Background(), paths, rp, creds, false, progress)
		s.svc.onUI(func() {
			if rp == s.m.Target() {
				s.m.Load()
			}
			if err != nil {
				s.act.finish("Upload of "+what+" stopped: "+humanError(err), "")
				showError(s.win, "upload "+what, err)
				return
			}
			var size int64
			for _, r := range res {
				size += r.Size
			}
			text := fmt.Sprintf("Uploaded %s to %s", filesAndBytes(len(res), size), where)
			s.act.finish(text, "")
			fyne.CurrentApp().SendNotification(fyne.NewNotification("Upload finished", text))
		})
	})
}

func (s *browserScreen) newFolder() {
	if !s.m.CanWrite() {
		return
	}
	name := newFormEntry()
	name.Validator = func(v string) error {
		if strings.TrimSpace(v) == "" || strings.ContainsAny(v, "/\\") {
			return errors.New("a name, without / or \\")
		}
		return nil
	}
	d := dialog.NewForm("New folder in "+s.here(), "Create", "Cancel", []*widget.FormItem{widget.NewFormItem("Name", name)}, func(ok bool) {
		if ok {
			s.makeFolder(name.Text)
		}
	}, s.win)
	bindFormKeys(d, name)
	d.Resize(fyne.NewSize(460, d.MinSize().Height))
	d.Show()
	s.win.Canvas().Focus(name)
}

// makeFolder creates a folder named name in the folder on show.
func (s *browserScreen) makeFolder(name string) {
	n := strings.TrimSpace(name)
	if n == "" || !s.m.CanWrite() {
		return
	}
	rp := s.m.Target()
	rp.Path = path.Join(rp.Path, n)
	creds := s.m.Creds()
	s.svc.bg(func() {
		err := s.svc.files.Mkdir(context.Background(), rp, creds)
		s.svc.onUI(func() {
			if err != nil {
				showError(s.win, "create folder "+n, err)
				return
			}
			s.m.Load()
		})
	})
}

// lockIcon marks a share the current login may not open (Material Design's
// "lock", Apache 2.0, as Fyne's own icons are).
var lockIcon = theme.NewThemedResource(fyne.NewStaticResource("lock.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="24" height="24"><path d="M18 8h-1V6c0-2.76-2.24-5-5-5S7 3.24 7 6v2H6c-1.1 0-2 .9-2 2v10c0 1.1.9 2 2 2h12c1.1 0 2-.9 2-2V10c0-1.1-.9-2-2-2zm-6 9c-1.1 0-2-.9-2-2s.9-2 2-2 2 .9 2 2-.9 2-2 2zm3.1-9H8.9V6c0-1.71 1.39-3.1 3.1-3.1 1.71 0 3.1 1.39 3.1 3.1v2z"/></svg>`)))
