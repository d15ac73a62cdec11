package app

import (
	"path"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// What the Files screen and the login dialog show, for WindowState: tests
// under Xvfb (and scripts) drive the real window with the keyboard and
// mouse and read here what it did, instead of reading pixels.

// FilesState is the Files screen.
type FilesState struct {
	Peer string `json:"peer,omitempty"` // the PC's name
	// Path is the breadcrumbs after the PC: share, folder, folder.
	Path   []string `json:"path,omitempty"`
	Status string   `json:"status"`
	// Login is the login button's text ("Log in…", "Logged in as bob ▾").
	Login string `json:"login"`
	// Rows are the names listed (the first maxStateRows), Selected the
	// selected one's.
	Rows     []string `json:"rows"`
	Selected string   `json:"selected,omitempty"`
	// TableFocused: the list has the keyboard.
	TableFocused bool `json:"table_focused"`
	// Download, Upload and NewFolder tell which buttons are enabled.
	Download  bool `json:"download"`
	Upload    bool `json:"upload"`
	NewFolder bool `json:"new_folder"`
}

// DialogState is the login dialog while it is open. Passwords are never
// in it: only how many characters were typed.
type DialogState struct {
	Title string `json:"title"`
	// Message is why the last try was refused ("" on a first ask).
	Message     string `json:"message,omitempty"`
	Account     string `json:"account"`
	PasswordLen int    `json:"password_len"`
	// Focus is the label of the field with the cursor ("" for none).
	Focus string `json:"focus,omitempty"`
}

// PrintState is the Print screen.
type PrintState struct {
	// PC is the chosen PC as the chooser shows it, Printers the printers
	// it lists, Printer the chosen one, File the file to print.
	PC       string   `json:"pc"`
	Printers []string `json:"printers"`
	Printer  string   `json:"printer"`
	File     string   `json:"file"`
	// Status is the line under the buttons (a job's state after Print).
	Status string `json:"status"`
	// CanPrint tells whether Print is on; Focus is the part with the
	// keyboard: "file", "copies", "print", "add" or "" for another.
	CanPrint bool   `json:"can_print"`
	Focus    string `json:"focus,omitempty"`
}

// TransfersState is the Transfers screen.
type TransfersState struct {
	Rows []TransferRowState `json:"rows"`
	// Focus is the row button with the keyboard, as "cancel:NAME",
	// "retry:NAME" or "open:NAME" ("" for none).
	Focus string `json:"focus,omitempty"`
}

// TransferRowState is one row of the Transfers screen.
type TransferRowState struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	State  string `json:"state"`
	Status string `json:"status"`
	// Cancel and Retry tell which of those buttons the row shows.
	Cancel bool `json:"cancel"`
	Retry  bool `json:"retry"`
}

const maxStateRows = 100

// openDialogs are the dialogs WindowState reports while they are open.
type openDialogs struct {
	login *loginDialog
}

// loginDialog is an open login dialog's parts.
type loginDialog struct {
	title, why        string
	user, pw, sharePW *formEntry
}

func (d *loginDialog) state(focused fyne.Focusable) *DialogState {
	s := &DialogState{Title: d.title, Message: d.why, Account: d.user.Text, PasswordLen: len([]rune(d.pw.Text))}
	switch focused {
	case d.user:
		s.Focus = "Account"
	case d.pw:
		s.Focus = "Password"
	case d.sharePW:
		s.Focus = "Share password"
	}
	return s
}

// state is what the Files screen shows now.
func (s *browserScreen) state() *FilesState {
	if s.table == nil {
		return nil
	}
	f := &FilesState{Peer: s.m.PeerName, Status: s.status.Text, Login: s.login.Text,
		Download: !s.download.Disabled(), Upload: !s.uploadF.Disabled(), NewFolder: !s.mkdir.Disabled()}
	for i, c := range s.m.Crumbs() {
		if i > 0 {
			f.Path = append(f.Path, c.Label)
		}
	}
	for i, r := range s.m.Rows {
		if i == maxStateRows {
			break
		}
		f.Rows = append(f.Rows, r.Name)
	}
	if s.selected >= 0 && s.selected < len(s.m.Rows) {
		f.Selected = s.m.Rows[s.selected].Name
	}
	if s.win != nil {
		if focused, ok := s.win.Canvas().Focused().(*keyTable); ok && focused == s.table {
			f.TableFocused = true
		}
	}
	return f
}

// openPath shows PC:SHARE/DIR on the Files screen; pc is a name or an id.
// A share the login may not open asks for a login first.
func (s *browserScreen) openPath(pc, share, dir string) bool {
	id, ok := s.peers.resolve(pc)
	if !ok {
		return false
	}
	s.m.wantShare, s.m.wantDir = share, dir
	if s.m.Peer == id {
		// Already on show: the chooser would not call back.
		s.m.OpenPeer(id, s.m.PeerName)
	} else {
		s.openPeer(id)
	}
	return true
}

// state is what the Transfers screen shows now; focused is the window's
// focused widget.
func (s *transfersScreen) state(focused fyne.Focusable) *TransfersState {
	t := &TransfersState{Rows: []TransferRowState{}}
	for i, in := range s.rows {
		if i == maxStateRows {
			break
		}
		t.Rows = append(t.Rows, TransferRowState{Name: path.Base(in.Path), Kind: string(in.Kind), State: string(in.State),
			Status: transferStatus(in), Cancel: canCancel(in), Retry: s.showsRetry(in)})
	}
	if b, ok := focused.(*widget.Button); ok {
		if rb, ok := s.rowButtons[b]; ok {
			if in, ok := s.byID[rb.id]; ok {
				t.Focus = rb.kind + ":" + path.Base(in.Path)
			}
		}
	}
	return t
}
