package discovery

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func openTable(t *testing.T) (*Table, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "peers.json")
	tb, err := OpenTable(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tb, p
}

// flushAndReopen writes tb's pending changes, as the daemon does on exit,
// and opens its file again.
func flushAndReopen(t *testing.T, tb *Table, path string) *Table {
	t.Helper()
	if err := tb.Flush(); err != nil {
		t.Fatal(err)
	}
	reopened, err := OpenTable(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return reopened
}

// writesOf is how many times tb wrote its file.
func writesOf(tb *Table) int {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return tb.writes
}

func nextEvent(t *testing.T, ch <-chan Event) Event {
	t.Helper()
	select {
	case e := <-ch:
		return e
	case <-time.After(time.Second):
		t.Fatal("no event")
	}
	return Event{}
}

func TestTableLifecycleEvents(t *testing.T) {
	tb, path := openTable(t)
	ch, cancel := tb.Subscribe()
	defer cancel()
	now := time.Now()
	id := "0d7e5c1e-8b1a-4bb8-9d57-3a3f0f1a2b3c"

	p, isNew := tb.Observe(Observation{ID: id, Name: "alice", Fingerprint: "aa", Addresses: []string{"10.0.0.1:1"}}, now)
	if !isNew || !p.Online || p.Trust != "new" {
		t.Fatalf("first observation: %+v new=%v", p, isNew)
	}
	if e := nextEvent(t, ch); e.Kind != EventUp || e.Peer.Name != "alice" {
		t.Fatalf("event %+v", e)
	}
	// Same facts again: no event.
	tb.Observe(Observation{ID: id, Name: "alice", Addresses: []string{"10.0.0.1:1"}}, now)
	// New address: updated, fresh address first.
	tb.Observe(Observation{ID: id, Addresses: []string{"10.0.0.2:1"}}, now)
	e := nextEvent(t, ch)
	if e.Kind != EventUpdated || e.Peer.Addresses[0] != "10.0.0.2:1" || len(e.Peer.Addresses) != 2 {
		t.Fatalf("event %+v", e)
	}
	trust := newTrustMap()
	tb.SetTrustSource(trust.get)
	trust.set(id, "changed")
	tb.TrustChanged(id)
	if e := nextEvent(t, ch); e.Kind != EventChanged || e.Peer.Trust != "changed" {
		t.Fatalf("event %+v", e)
	}
	if !tb.MarkOffline(id, "goodbye") {
		t.Fatal("MarkOffline of an online peer reported false")
	}
	if e := nextEvent(t, ch); e.Kind != EventDown || e.Reason != "goodbye" {
		t.Fatalf("event %+v", e)
	}
	if tb.MarkOffline(id, "again") {
		t.Fatal("MarkOffline twice reported true")
	}

	// Reopen after the flush the daemon does on exit: remembered, offline,
	// same trust (from the source) and addresses.
	if err := tb.Flush(); err != nil {
		t.Fatal(err)
	}
	tb2, err := OpenTable(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	tb2.SetTrustSource(trust.get)
	got, ok := tb2.Get(id)
	if !ok || got.Online || got.Trust != "changed" || got.Name != "alice" || len(got.Addresses) != 2 {
		t.Fatalf("reopened: %+v", got)
	}
	if !tb2.Remove(id) {
		t.Fatal("remove failed")
	}
	if _, ok := tb2.Get(id); ok {
		t.Fatal("still there after remove")
	}
}

func TestManualAddressBecomesPeer(t *testing.T) {
	tb, path := openTable(t)
	tb.AddManual("10.0.0.9:47220")
	tb.AddManual("10.0.0.9:47220")
	if got := tb.ManualAddresses(); len(got) != 1 {
		t.Fatalf("manual = %v", got)
	}
	id := "0d7e5c1e-8b1a-4bb8-9d57-3a3f0f1a2b3d"
	tb.Observe(Observation{ID: id, Addresses: []string{"10.0.0.9:47220"}, Alive: true}, time.Now())
	if got := tb.ManualAddresses(); len(got) != 0 {
		t.Fatalf("manual after contact = %v", got)
	}
	p, _ := tb.Get(id)
	if !p.Manual {
		t.Fatal("peer not marked manual")
	}
	// Changes reach the disk within saveEvery; the daemon flushes on exit.
	if err := tb.Flush(); err != nil {
		t.Fatal(err)
	}
	tb2, err := OpenTable(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := tb2.Get(id); !p.Manual || p.Addresses[0] != "10.0.0.9:47220" {
		t.Fatalf("reopened %+v", p)
	}
	// Removing a pending address works too.
	tb2.AddManual("10.0.0.10:1")
	if !tb2.Remove("10.0.0.10:1") || len(tb2.ManualAddresses()) != 0 {
		t.Fatal("pending address not removed")
	}
}

func TestListOrder(t *testing.T) {
	tb, _ := openTable(t)
	now := time.Now()
	tb.Observe(Observation{ID: "b", Name: "zed"}, now)
	tb.Observe(Observation{ID: "a", Name: "amy"}, now)
	tb.Observe(Observation{ID: "c", Name: "bob"}, now)
	tb.MarkOffline("a", "test")
	var names []string
	for _, p := range tb.List() {
		names = append(names, p.Name)
	}
	want := []string{"bob", "zed", "amy"}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("order %v, want %v", names, want)
		}
	}
}

// Snapshot holds what List holds, in any order, and its copies are the
// caller's: changing one changes nothing in the table.
func TestSnapshotCopiesEveryPeer(t *testing.T) {
	tb, _ := openTable(t)
	now := time.Now()
	for i := range 5 {
		tb.Observe(Observation{ID: fmt.Sprint("p", i), Name: fmt.Sprint("pc", i), Addresses: []string{fmt.Sprintf("10.0.0.%d:47220", i+1)}, Alive: true}, now)
	}
	tb.MarkOffline("p3", "test")
	buf := make([]Peer, 0, 1)
	snap := tb.Snapshot(buf)
	if len(snap) != 5 {
		t.Fatalf("snapshot of %d peers, want 5", len(snap))
	}
	byID := map[string]Peer{}
	for _, p := range snap {
		byID[p.ID] = p
	}
	for _, p := range tb.List() {
		got, ok := byID[p.ID]
		if !ok || got.Online != p.Online || got.Name != p.Name || fmt.Sprint(got.Addresses) != fmt.Sprint(p.Addresses) || !got.LastSeen.Equal(p.LastSeen) {
			t.Errorf("snapshot has %+v for %s, List %+v", got, p.ID, p)
		}
	}
	snap[0].Addresses[0] = "192.0.2.1:1"
	snap[0].Online = !snap[0].Online
	if p, _ := tb.Get(snap[0].ID); p.Addresses[0] == "192.0.2.1:1" || p.Online == snap[0].Online {
		t.Errorf("changing the snapshot changed the table: %+v", p)
	}
	// The next snapshot reuses the slice it is given.
	again := tb.Snapshot(snap)
	if len(again) != 5 || &again[0] != &snap[0] {
		t.Errorf("snapshot did not reuse its slice (%d peers)", len(again))
	}
}

// BenchmarkTableSnapshot prints what the liveness schedule's read of the
// table costs with 100 peers: Snapshot against List in the same run
// (snapshot/list).
func BenchmarkTableSnapshot(b *testing.B) {
	tb, err := OpenTable(filepath.Join(b.TempDir(), "peers.json"), nil)
	if err != nil {
		b.Fatal(err)
	}
	trust := newTrustMap()
	tb.SetTrustSource(trust.get)
	now := time.Now()
	for i := range 100 {
		id := fmt.Sprintf("%08d-0000-4000-8000-000000000000", i)
		trust.set(id, "pinned")
		tb.Observe(Observation{ID: id, Name: fmt.Sprint("pc", i), Addresses: []string{fmt.Sprintf("10.0.%d.%d:47220", i/250, i%250+1)}, Alive: true}, now)
	}
	perOp := func(fn func()) float64 {
		const rounds = 2000
		start := time.Now()
		for range rounds {
			fn()
		}
		return float64(time.Since(start).Nanoseconds()) / rounds
	}
	var buf []Peer
	for b.Loop() {
		list := perOp(func() { _ = tb.List() })
		snap := perOp(func() { buf = tb.Snapshot(buf) })
		b.ReportMetric(list, "list-ns")
		b.ReportMetric(snap, "snapshot-ns")
		b.ReportMetric(snap/list, "snapshot/list")
	}
}

func TestCorruptTableIsAnError(t *testing.T) {
	p := filepath.Join(t.TempDir(), "peers.json")
	if err := writeFile(p, "{not json"); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenTable(p, nil); err == nil {
		t.Fatal("corrupt table opened without error")
	}
}

// TestTableBoundsStrangers: hellos from many fresh identities keep at most
// maxPeers rows; verified peers, peers added by hand and the peers heard
// from lately stay, offline strangers go first; the burst costs a few file
// writes, not one each.
func TestTableBoundsStrangers(t *testing.T) {
	defer func(n int) { maxPeers = n }(maxPeers)
	maxPeers = 20
	tb, path := openTable(t)
	trust := newTrustMap()
	tb.SetTrustSource(trust.get)
	now := time.Now()
	verified, manual, colleague := "00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b", "00000000-0000-4000-8000-00000000000c"
	tb.Observe(Observation{ID: verified, Alive: true}, now)
	trust.set(verified, "verified")
	tb.AddManual("10.0.0.9:47220")
	tb.Observe(Observation{ID: manual, Addresses: []string{"10.0.0.9:47220"}, Alive: true}, now)
	tb.MarkOffline(verified, "test")
	tb.MarkOffline(manual, "test")
	writesBefore := writesOf(tb)
	for i := range 200 {
		now = now.Add(time.Millisecond)
		tb.Observe(Observation{ID: colleague, Alive: true}, now) // online, heard from all along
		tb.Observe(Observation{ID: fmt.Sprintf("%08d-1111-4111-8111-111111111111", i), Alive: true}, now)
		trust.set(fmt.Sprintf("%08d-1111-4111-8111-111111111111", i), "pinned")
	}
	if n := len(tb.List()); n > maxPeers {
		t.Errorf("%d peers kept, bound %d", n, maxPeers)
	}
	for _, id := range []string{verified, manual, colleague} {
		if _, ok := tb.Get(id); !ok {
			t.Errorf("%s was forgotten", id)
		}
	}
	tb.TrustChanged("99999999-1111-4111-8111-111111111111")
	if _, ok := tb.Get("99999999-1111-4111-8111-111111111111"); ok {
		t.Error("a trust change for a peer not in the table made a row")
	}
	writes := writesOf(tb) - writesBefore
	if writes > 3 {
		t.Errorf("400 changes in a burst wrote peers.json %d times", writes)
	}
	reopened := flushAndReopen(t, tb, path)
	reopened.SetTrustSource(trust.get)
	if n := len(reopened.List()); n != len(tb.List()) {
		t.Errorf("peers.json holds %d peers, memory %d", n, len(tb.List()))
	}
}

// trustMap stands in for the trust store as the table's trust source.
type trustMap struct {
	mu sync.Mutex
	m  map[string]string
}

func newTrustMap() *trustMap { return &trustMap{m: map[string]string{}} }

func (t *trustMap) get(id string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m[id]
}

func (t *trustMap) set(id, state string) {
	t.mu.Lock()
	t.m[id] = state
	t.mu.Unlock()
}

// TestMergeKeepsNames: a DNS name a user added comes first and stays
// however many addresses the peer is seen at since.
func TestMergeKeepsNames(t *testing.T) {
	addrs := mergeAddresses([]string{"pc12.office.lan:47220"}, nil)
	for i := range 20 {
		addrs = mergeAddresses([]string{fmt.Sprintf("10.0.0.%d:47220", i)}, addrs)
	}
	if addrs[0] != "pc12.office.lan:47220" {
		t.Fatalf("addresses %v: the name is not first", addrs)
	}
	if len(addrs) != 7 || addrs[1] != "10.0.0.19:47220" {
		t.Fatalf("addresses %v: want the name, then the 6 latest", addrs)
	}
	for _, tc := range []struct {
		addr string
		name bool
	}{{"pc12:1", true}, {"10.0.0.1:1", false}, {"[fd00::1]:1", false}, {"[fe80::1%eth0]:1", false}, {"nonsense", false}} {
		if got := IsDNSName(tc.addr); got != tc.name {
			t.Errorf("IsDNSName(%q) = %v", tc.addr, got)
		}
	}
}

// TestTableDeparturesCoalesceWrites: when the office closes, the goodbyes
// of 49 peers within a moment cost at most one write of peers.json (the
// rest waits for the next), and each peer's last-seen time still reaches
// the disk.
func TestTableDeparturesCoalesceWrites(t *testing.T) {
	tb, path := openTable(t)
	start := time.Now().Add(-time.Minute)
	var ids []string
	for i := range 49 {
		id := fmt.Sprintf("%08d-2222-4222-8222-222222222222", i)
		ids = append(ids, id)
		tb.Observe(Observation{ID: id, Addresses: []string{fmt.Sprintf("10.0.%d.%d:47220", i/200, i%200+1)}, Alive: true}, start)
	}
	if err := tb.Flush(); err != nil {
		t.Fatal(err)
	}
	seen := start.Add(30 * time.Second)
	for _, id := range ids {
		tb.Seen(id, seen)
	}
	before := writesOf(tb)
	for _, id := range ids {
		if !tb.MarkOffline(id, "said goodbye") {
			t.Fatalf("%s was not online", id)
		}
	}
	writes := writesOf(tb) - before
	if writes > 1 {
		t.Errorf("49 goodbyes wrote peers.json %d times", writes)
	}
	reopened := flushAndReopen(t, tb, path)
	for _, id := range ids {
		p, ok := reopened.Get(id)
		switch {
		case !ok:
			t.Errorf("%s not in peers.json", id)
		case p.Online:
			t.Errorf("%s reopened as online", id)
		case !p.LastSeen.Equal(seen.Truncate(0)) && p.LastSeen.Sub(seen).Abs() > time.Millisecond:
			t.Errorf("%s last seen %v in peers.json, want %v", id, p.LastSeen, seen)
		}
	}
}
