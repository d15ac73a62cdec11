package app

import (
	"regexp"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/peerdesk/peerdesk/discovery"
)

// Fingerprints are SHA-256 hex; their codes are base32 groups.
const (
	fpA = "047bfad2d7afa998c01e86fd602f78e6e73489c35ae98aba4b06221a19bed9bf"
	fpB = "c5bedd8ee4caa63e53798cfd321e1b900fb36229222d85be6a70307ac3026b2d"
)

var codeFormat = regexp.MustCompile(`^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$`)

func peer(id, name string, online bool, trust, fp string, addrs ...string) discovery.Peer {
	return discovery.Peer{ID: id, Name: name, Online: online, Trust: trust, Fingerprint: fp, Addresses: addrs}
}

func rowNames(t *testing.T, m *peersModel) []string {
	t.Helper()
	var names []string
	for i := 0; i < m.len(); i++ {
		r, ok := m.row(i)
		if !ok {
			t.Fatalf("row %d of %d missing", i, m.len())
		}
		names = append(names, r.Name)
	}
	return names
}

func TestRowFor(t *testing.T) {
	r := rowFor(peer("0f3c2a7e-1111-2222-3333-444444444444", "", true, "verified", fpA, "10.0.0.7:47220", "[fe80::1]:47220"))
	if r.Name != "0f3c2a7e" {
		t.Errorf("unnamed peer shows as %q, want its short id", r.Name)
	}
	if !codeFormat.MatchString(r.Code) {
		t.Errorf("code %q is not a verification code", r.Code)
	}
	if r.Address != "10.0.0.7:47220" {
		t.Errorf("address %q, want the first one", r.Address)
	}
	if r.Trust != "verified" || !r.Online {
		t.Errorf("row %+v lost trust or online state", r)
	}

	r = rowFor(peer("id-2", "bare", false, "new", ""))
	if r.Code != "" || r.Address != "" {
		t.Errorf("peer with no key or address: row %+v, want empty code and address", r)
	}
	if rowFor(peer("x", "a", true, "", fpA)).Code == rowFor(peer("y", "b", true, "", fpB)).Code {
		t.Error("two keys gave the same code")
	}
}

func TestTrustLabel(t *testing.T) {
	for _, tc := range []struct {
		state string
		text  string
		imp   widget.Importance
	}{
		{"verified", "verified", widget.SuccessImportance},
		{"pinned", "pinned", widget.MediumImportance},
		{"new", "new", widget.WarningImportance},
		{"", "new", widget.WarningImportance},
		{"changed", "identity changed", widget.DangerImportance},
		{"later-state", "later-state", widget.MediumImportance},
	} {
		text, imp := trustLabel(tc.state)
		if text != tc.text || imp != tc.imp {
			t.Errorf("trustLabel(%q) = %q, %v; want %q, %v", tc.state, text, imp, tc.text, tc.imp)
		}
	}
}

func TestPeersModelOrdersOnlineFirst(t *testing.T) {
	test.NewTempApp(t)
	m := newPeersModel()
	m.reset([]discovery.Peer{
		peer("1", "zeta", false, "pinned", fpA),
		peer("2", "Bravo", true, "new", fpB),
		peer("3", "alpha", false, "new", ""),
		peer("4", "charlie", true, "verified", fpA),
	})
	got := strings.Join(rowNames(t, m), ",")
	if want := "Bravo,charlie,alpha,zeta"; got != want {
		t.Errorf("rows %s, want %s (online first, then by name, ignoring case)", got, want)
	}
}

func TestPeersModelAppliesEvents(t *testing.T) {
	test.NewTempApp(t)
	m := newPeersModel()
	m.reset([]discovery.Peer{peer("a", "alpha", true, "pinned", fpA, "10.0.0.1:47220")})

	steps := []struct {
		name   string
		events []discovery.Event
		want   string // name:online:trust per row
	}{
		{"peer comes up", []discovery.Event{{Kind: discovery.EventUp, Peer: peer("b", "bravo", true, "new", fpB)}},
			"alpha:true:pinned,bravo:true:new"},
		{"peer leaves", []discovery.Event{{Kind: discovery.EventDown, Peer: peer("a", "alpha", false, "pinned", fpA), Reason: "goodbye"}},
			"bravo:true:new,alpha:false:pinned"},
		{"identity changed", []discovery.Event{{Kind: discovery.EventChanged, Peer: peer("b", "bravo", true, "changed", fpB)}},
			"bravo:true:changed,alpha:false:pinned"},
		{"renamed and removed in one batch", []discovery.Event{
			{Kind: discovery.EventUpdated, Peer: peer("a", "aardvark", false, "pinned", fpA)},
			{Kind: discovery.EventRemoved, Peer: peer("b", "bravo", true, "changed", fpB)},
		}, "aardvark:false:pinned"},
		{"replayed event is harmless", []discovery.Event{{Kind: discovery.EventUpdated, Peer: peer("a", "aardvark", false, "pinned", fpA)}},
			"aardvark:false:pinned"},
	}
	for _, s := range steps {
		m.apply(s.events...)
		var got []string
		for i := 0; i < m.len(); i++ {
			r, _ := m.row(i)
			got = append(got, strings.Join([]string{r.Name, boolString(r.Online), r.Trust}, ":"))
		}
		if g := strings.Join(got, ","); g != s.want {
			t.Errorf("%s: rows %s, want %s", s.name, g, s.want)
		}
	}
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// TestPeersViewShowsRows renders the screen with the headless driver and
// reads what a person would see.
func TestPeersViewShowsRows(t *testing.T) {
	test.NewTempApp(t)
	m := newPeersModel()
	view, _ := peersView(m, nil)
	w := test.NewTempWindow(t, view)
	w.Resize(fyne.NewSize(900, 400))

	markup := test.RenderToMarkup(w.Canvas())
	if !strings.Contains(markup, "No peers yet") {
		t.Errorf("empty table shows no hint:\n%s", markup)
	}

	m.reset([]discovery.Peer{
		peer("a", "desk-1", true, "verified", fpA, "10.0.0.1:47220"),
		peer("b", "laptop", false, "changed", fpB),
	})
	markup = test.RenderToMarkup(w.Canvas())
	for _, want := range []string{
		"desk-1", "online", "verified", rowFor(peer("a", "", true, "", fpA)).Code, "10.0.0.1:47220",
		"laptop", "offline", "identity changed", rowFor(peer("b", "", true, "", fpB)).Code,
		"Verification code", // header row
	} {
		if !strings.Contains(markup, ">"+want+"<") {
			t.Errorf("screen lacks %q", want)
		}
	}
	if strings.Contains(markup, "No peers yet") {
		t.Error("hint still shown over a table with rows")
	}
	if !regexp.MustCompile(`<text color="error"[^>]*>identity changed<`).MatchString(markup) {
		t.Errorf("changed identity is not shown in the error colour:\n%s", markup)
	}
	if !regexp.MustCompile(`<text color="success"[^>]*>online<`).MatchString(markup) {
		t.Errorf("online is not shown in the success colour:\n%s", markup)
	}
	if strings.Index(markup, ">desk-1<") > strings.Index(markup, ">laptop<") {
		t.Error("offline peer drawn above the online one")
	}
}

// A change that keeps the number of peers (online, offline, verified,
// renamed) reaches every view of the peers: the table's cells and the PC
// choosers, not only when a peer is added or removed (R2 7/7, 1).
func TestPeerViewsFollowEveryChange(t *testing.T) {
	test.NewTempApp(t)
	m := newPeersModel()
	m.reset([]discovery.Peer{peer("a", "alpha", true, "pinned", fpA), peer("b", "bravo", false, "pinned", fpB)})
	table, _ := peersView(m, nil)
	w := test.NewTempWindow(t, table)
	w.Resize(fyne.NewSize(1100, 300))
	ps := newPrintScreen(syncSvc(services{print: &fakePrint{}}), m, w)
	ps.view()
	if got := ps.peerSel.Options; len(got) != 1 {
		t.Fatalf("print chooser %v, want alpha only", got)
	}
	calls := 0
	m.onChange(func() { calls++ })
	calls = 0

	m.apply(discovery.Event{Kind: discovery.EventUp, Peer: peer("b", "bravo", true, "verified", fpB)})
	if calls != 1 {
		t.Errorf("listener called %d times for a change of state, want 1", calls)
	}
	if got := ps.peerSel.Options; len(got) != 2 {
		t.Errorf("print chooser %v after bravo came online, want both", got)
	}
	shown := labelsIn(table)
	for _, want := range []string{"bravo", "verified"} {
		if !strings.Contains(shown, want) {
			t.Errorf("table shows %q, want %q in it", shown, want)
		}
	}
	if strings.Contains(shown, "offline") {
		t.Errorf("table still shows a peer offline: %q", shown)
	}
}

// TestPeersTableKeyboard (R2 7/7 item 10): the arrows move through the
// peers and Enter opens the one reached, as a click does.
func TestPeersTableKeyboard(t *testing.T) {
	test.NewTempApp(t)
	m := newPeersModel()
	m.reset([]discovery.Peer{peer("a", "alpha", true, "pinned", fpA), peer("b", "bravo", true, "pinned", fpB)})
	var opened []string
	view, _ := peersView(m, func(r peerRow) { opened = append(opened, r.Name) })
	w := test.NewTempWindow(t, view)
	w.Resize(fyne.NewSize(1000, 300))
	var table *keyTable
	walk(view, func(o fyne.CanvasObject) {
		if kt, ok := o.(*keyTable); ok {
			table = kt
		}
	})
	if table == nil {
		t.Fatal("no keyboard table in the Peers view")
	}
	w.Canvas().Focus(table)
	table.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDown})
	table.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if len(opened) != 1 || opened[0] != "bravo" {
		t.Errorf("Down, Enter opened %v, want bravo", opened)
	}
}
