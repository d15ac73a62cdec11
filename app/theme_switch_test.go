package app

import (
	"regexp"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/discovery"
	"github.com/peerdesk/peerdesk/node"
	"github.com/peerdesk/peerdesk/shares/transfer"
)

// fakeAudit is an audit log of a few records.
type fakeAudit struct{}

func (fakeAudit) AuditRecords(int) ([]access.AuditRecord, error) {
	t0 := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
	return []access.AuditRecord{
		{Time: t0, PeerName: "alpha", Account: "alice", Action: access.ActionRead, Resource: "docs/a.pdf", Allowed: true},
		{Time: t0, PeerName: "bravo", Action: access.ActionList, Resource: "docs", Allowed: false},
	}, nil
}

// TestThemeSwitchRedrawsEverything (R2 7/7 item 10): after switching from
// the light to the dark theme (and back), every screen is drawn in the new
// theme's colours: the markup names each colour by its theme role, and a
// raw colour left over from the old theme (Fyne's table kept its column
// lines so) fails.
func TestThemeSwitchRedrawsEverything(t *testing.T) {
	a := test.NewTempApp(t)
	applyTheme(a, themeLight)
	svc := syncSvc(services{files: newFakeFiles(), shares: &fakeShares{password: map[string]string{}}, accounts: &fakeAccounts{},
		transfers: &fakeTransfers{updates: make(chan transfer.Info, 4)}, audit: fakeAudit{}})
	peers := newPeersModel()
	w := newMainWindow(a, self, peers, svc, func(WindowState) {})
	peers.reset([]discovery.Peer{peer("a", "alpha", true, "pinned", fpA), peer("b", "bravo", false, "verified", fpB)})
	t.Cleanup(w.win.Close)
	w.win.Resize(fyne.NewSize(1000, 700))
	w.browser.m.SetCreds("pc1", node.Creds{User: "bob", Password: "pw"})
	w.browser.m.OpenPeer("pc1", "Front desk")
	w.browser.m.Open(browseRow{Name: "docs", Share: true, Dir: true, Kind: "folder"})
	for _, it := range w.tabs.Items {
		w.tabs.Select(it) // every screen built
	}
	raw := regexp.MustCompile(`(?i)(fillColor|strokeColor|color)="(#[0-9a-f]+|rgba?\([^"]*\))"`)
	for _, choice := range []string{themeDark, themeLight} {
		w.tabs.SelectIndex(len(w.tabs.Items) - 1) // as from Settings
		applyTheme(a, choice)
		for _, it := range w.tabs.Items {
			w.tabs.Select(it)
			if stale := raw.FindAllString(test.RenderToMarkup(w.win.Canvas()), 3); len(stale) > 0 {
				t.Errorf("%s theme, %s screen: colours not of the theme: %v", choice, it.Text, stale)
			}
		}
	}
}
