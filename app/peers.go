package app

import (
	"cmp"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/widget"

	"github.com/peerdesk/peerdesk/discovery"
	"github.com/peerdesk/peerdesk/identity"
)

// peerRow is one line of the peers screen, formatted for display.
type peerRow struct {
	ID      string
	Name    string
	Online  bool
	Trust   string // discovery trust state: "new", "pinned", "verified", "changed"
	Code    string // verification code of the key the peer announced
	Address string // first known host:port, "" if none
}

func rowFor(p discovery.Peer) peerRow {
	r := peerRow{ID: p.ID, Name: p.Name, Online: p.Online, Trust: p.Trust, Code: identity.VerificationCode(p.Fingerprint)}
	if r.Name == "" {
		r.Name = shortID(p.ID)
	}
	if len(p.Addresses) > 0 {
		r.Address = p.Addresses[0]
	}
	return r
}

// lessRow orders the screen: online peers first, then by name, then id.
func lessRow(a, b peerRow) int {
	if a.Online != b.Online {
		if a.Online {
			return -1
		}
		return 1
	}
	if c := cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// peersModel is the state of the peers screen: the peer table as last
// reported by the core, and the sorted rows bound to the widget. Only the
// UI goroutine touches it.
type peersModel struct {
	peers map[string]discovery.Peer
	rows  binding.List[peerRow]
	// changed hear every change of the rows. binding.List tells its own
	// listeners only when the number of rows changes, which left the
	// Peers table, the Files and Print PC choosers and the tray showing a
	// peer offline or unverified after it changed.
	changed []func()
}

// onChange calls fn on the UI goroutine after every change of the rows
// (and once soon, as a binding listener is).
func (m *peersModel) onChange(fn func()) {
	m.changed = append(m.changed, fn)
	m.rows.AddListener(binding.NewDataListener(fn))
}

func newPeersModel() *peersModel {
	return &peersModel{
		peers: map[string]discovery.Peer{},
		rows:  binding.NewList(func(a, b peerRow) bool { return a == b }),
	}
}

// reset replaces the table, e.g. with node.PeerList() at start.
func (m *peersModel) reset(list []discovery.Peer) {
	clear(m.peers)
	for _, p := range list {
		m.peers[p.ID] = p
	}
	m.publish()
}

// apply folds table events in. Each event carries the peer as it is after
// the change, so replaying events already reflected by reset is harmless.
func (m *peersModel) apply(events ...discovery.Event) {
	for _, e := range events {
		if e.Kind == discovery.EventRemoved {
			delete(m.peers, e.Peer.ID)
			continue
		}
		m.peers[e.Peer.ID] = e.Peer
	}
	m.publish()
}

func (m *peersModel) publish() {
	rows := make([]peerRow, 0, len(m.peers))
	for _, p := range m.peers {
		rows = append(rows, rowFor(p))
	}
	slices.SortFunc(rows, lessRow)
	same := m.rows.Length() == len(rows)
	_ = m.rows.Set(rows) // Set fails only on a wrong type; rows has the bound one
	if same {
		// The binding tells its listeners of length changes only.
		for _, fn := range m.changed {
			fn()
		}
	}
}

// resolve finds the peer ref names, an id or a display name (any case),
// as gui.show's paths give it.
func (m *peersModel) resolve(ref string) (string, bool) {
	for id, p := range m.peers {
		if id == ref || strings.EqualFold(p.Name, ref) {
			return id, true
		}
	}
	return "", false
}

// idOf finds the id of the peer with a display name, if exactly one has
// it.
func (m *peersModel) idOf(name string) (string, bool) {
	id, n := "", 0
	for _, p := range m.peers {
		if p.Name == name {
			id, n = p.ID, n+1
		}
	}
	return id, n == 1
}

// len is the number of rows on screen.
func (m *peersModel) len() int { return m.rows.Length() }

// row returns the i-th row on screen.
func (m *peersModel) row(i int) (peerRow, bool) {
	r, err := m.rows.GetValue(i)
	return r, err == nil
}

// Columns of the peers table.
const (
	colName = iota
	colStatus
	colTrust
	colCode
	colAddress
	numCols
)

var (
	colTitles = [numCols]string{"Name", "Status", "Trust", "Verification code", "Address"}
	colWidths = [numCols]float32{190, 100, 150, 200, 190}
)

// peersView is the peers table with a hint in place of an empty table.
// onSelect, if set, hears which peer the person picked (a click, or Enter
// on the row the arrows reached). retheme rebuilds the table after a
// theme change: Fyne never repaints a table's column lines.
func peersView(m *peersModel, onSelect func(peerRow)) (view fyne.CanvasObject, retheme func()) {
	newTable := func() *keyTable {
		t := &keyTable{}
		t.Length = func() (int, int) { return m.len(), numCols }
		t.CreateCell = func() fyne.CanvasObject { return widget.NewLabel("") }
		t.UpdateCell = func(id widget.TableCellID, o fyne.CanvasObject) {
			r, ok := m.row(id.Row)
			if !ok {
				return
			}
			setCell(o.(*widget.Label), id.Col, r)
		}
		t.ExtendBaseWidget(t)
		t.ShowHeaderRow = true
		t.CreateHeader = func() fyne.CanvasObject {
			return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		}
		t.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
			if id.Col >= 0 && id.Col < numCols {
				o.(*widget.Label).SetText(colTitles[id.Col])
			}
		}
		for i, w := range colWidths {
			t.SetColumnWidth(i, w)
		}
		t.OnSelected = func(id widget.TableCellID) {
			if r, ok := m.row(id.Row); ok && onSelect != nil {
				onSelect(r)
			}
			t.UnselectAll()
		}
		return t
	}
	table := newTable()
	box := container.NewStack(table)

	empty := widget.NewLabel("No peers yet. Other PCs running Peerdesk on this network show up here.")
	empty.Alignment = fyne.TextAlignCenter
	sync := func() {
		if m.len() == 0 {
			empty.Show()
		} else {
			empty.Hide()
		}
		table.Refresh()
	}
	m.onChange(sync)
	retheme = func() {
		table = newTable()
		box.Objects = []fyne.CanvasObject{table}
		box.Refresh()
	}
	return container.NewStack(box, container.NewCenter(empty)), retheme
}

func setCell(l *widget.Label, col int, r peerRow) {
	l.TextStyle = fyne.TextStyle{}
	l.Importance = widget.MediumImportance
	text := ""
	switch col {
	case colName:
		text = r.Name
		l.TextStyle.Bold = true
	case colStatus:
		text, l.Importance = statusLabel(r.Online)
	case colTrust:
		text, l.Importance = trustLabel(r.Trust)
	case colCode:
		text = orDash(r.Code) // in the text font: see codeLabel
	case colAddress:
		text = orDash(r.Address)
	}
	l.Truncation = fyne.TextTruncateEllipsis
	l.SetText(text) // refreshes style and importance too
}

func statusLabel(online bool) (string, widget.Importance) {
	if online {
		return "online", widget.SuccessImportance
	}
	return "offline", widget.LowImportance
}

// trustLabel says what a trust state means to a person.
func trustLabel(state string) (string, widget.Importance) {
	switch state {
	case "verified":
		return "verified", widget.SuccessImportance
	case "pinned":
		return "pinned", widget.MediumImportance
	case "changed":
		return "identity changed", widget.DangerImportance
	case "new", "":
		return "new", widget.WarningImportance
	}
	return state, widget.MediumImportance
}

// codeLabel shows a verification code. In the text font, not monospace:
// the codes are short groups of A-Z and 2-7 (no 0/O or 1/l to confuse),
// and every text style Fyne draws loads its own copy of a system fallback
// face besides the theme's (DejaVu Sans Mono and its bold here): the two
// monospace styles held 2-3 MB of the app's heap for these few labels
// (GUI RSS after start 149.3 -> 146.1 MB under Xvfb).
func codeLabel(code string, bold bool) *widget.Label {
	return widget.NewLabelWithStyle(orDash(code), fyne.TextAlignLeading, fyne.TextStyle{Bold: bold})
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
