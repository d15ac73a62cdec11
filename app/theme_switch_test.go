package app

import (
	"regexp"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/peerdesk/peerdesk/node"
	"github.com/peerdesk/peerdesk/shares/transfer"
)

// TestThemeSwitchRedrawsEverything (R2 7/7 item 10): after switching from
// the light to the dark theme (and back), every screen is drawn in the new
// theme's colours: the markup names each colour by its theme role, and a
// raw colour left over from the old theme (Fyne's table kept its column
// lines so) fails.
func TestThemeSwitchRedrawsEverything(t *testing.T) {
	a := test.NewTempApp(t)
	applyTheme(a, themeLight)
	svc := syncSvc(services{files: newFakeFiles(), shares: &fakeShares{password: map[string]string{}}, accounts: &fakeAccounts{},
		transfers: &fakeTransfers{updates: make(chan transfer.Info, 4)}})
	w := newMainWindow(a, self, newPeersModel(), svc, func(WindowState) {})
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
		w.tabs.SelectIndex(0)
		applyTheme(a, choice)
		for _, it := range w.tabs.Items {
			w.tabs.Select(it)
			if stale := raw.FindAllString(test.RenderToMarkup(w.win.Canvas()), 3); len(stale) > 0 {
				t.Errorf("%s theme, %s screen: colours not of the theme: %v", choice, it.Text, stale)
			}
		}
	}
}
