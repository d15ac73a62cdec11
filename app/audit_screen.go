package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/peerdesk/peerdesk/access"
)

// auditSource is what the Audit log screen reads: `peerdesk log`.
type auditSource interface {
	AuditRecords(limit int) ([]access.AuditRecord, error)
}

// auditLimit is how many of the newest records the screen shows.
const auditLimit = 500

// auditScreen is the Audit log tab: who did what to which share, allowed
// or refused, newest first.
type auditScreen struct {
	svc     services
	win     fyne.Window
	table   *widget.Table
	box     *fyne.Container // holds table
	records []access.AuditRecord
	status  *widget.Label
}

func newAuditScreen(svc services, win fyne.Window) *auditScreen {
	return &auditScreen{svc: svc, win: win}
}

var auditCols = [...]struct {
	title string
	width float32
}{{"When", 140}, {"PC", 140}, {"Account", 100}, {"Did", 70}, {"Share / path", 260}, {"Result", 90}, {"Detail", 220}}

func (s *auditScreen) view() fyne.CanvasObject {
	s.table = s.newTable()
	s.box = container.NewStack(s.table)
	s.status = widget.NewLabel("")
	refresh := widget.NewButtonWithIcon("Refresh", theme.ViewRefreshIcon(), s.reload)
	s.reload()
	return container.NewBorder(container.NewHBox(refresh, s.status), nil, nil, nil, s.box)
}

// newTable is the records table; retheme replaces it after a theme change
// (Fyne never repaints a table's column lines).
func (s *auditScreen) newTable() *widget.Table {
	t := widget.NewTable(
		func() (int, int) { return len(s.records), len(auditCols) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			if id.Row < len(s.records) {
				o.(*widget.Label).SetText(auditCell(s.records[id.Row], id.Col))
			}
		},
	)
	t.ShowHeaderRow = true
	t.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 && id.Col < len(auditCols) {
			o.(*widget.Label).SetText(auditCols[id.Col].title)
		}
	}
	for i, c := range auditCols {
		t.SetColumnWidth(i, c.width)
	}
	return t
}

func (s *auditScreen) retheme() {
	s.table = s.newTable()
	s.box.Objects = []fyne.CanvasObject{s.table}
	s.box.Refresh()
}

func auditCell(r access.AuditRecord, col int) string {
	switch col {
	case 0:
		return humanTime(r.Time)
	case 1:
		return orDash(r.PeerName)
	case 2:
		return orDash(r.Account)
	case 3:
		return string(r.Action)
	case 4:
		return r.Resource
	case 5:
		if r.Allowed {
			return "allowed"
		}
		return "REFUSED"
	}
	return r.Detail
}

// reload reads the log in the background; the newest record comes first.
func (s *auditScreen) reload() {
	s.svc.bg(func() {
		recs, err := s.svc.audit.AuditRecords(auditLimit)
		s.svc.onUI(func() {
			if err != nil {
				s.status.SetText(humanError(err))
				return
			}
			for i, j := 0, len(recs)-1; i < j; i, j = i+1, j-1 {
				recs[i], recs[j] = recs[j], recs[i]
			}
			s.records = recs
			s.status.SetText("")
			if len(recs) == 0 {
				s.status.SetText("Nobody has used your shares yet.")
			}
			s.table.Refresh()
		})
	})
}
