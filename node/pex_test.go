package node

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestValidPexEntry(t *testing.T) {
	const self, from = "11111111-2222-4333-8444-555555555555", "22222222-2222-4333-8444-555555555555"
	now := time.Now()
	good := pexEntry{ID: "33333333-2222-4333-8444-555555555555", Fingerprint: strings.Repeat("ab", 32),
		Addresses: []string{"10.0.0.5:47220"}, LastReached: now.Unix()}
	with := func(f func(*pexEntry)) pexEntry {
		e := good
		e.Addresses = append([]string(nil), good.Addresses...)
		f(&e)
		return e
	}
	cases := []struct {
		name  string
		e     pexEntry
		ok    bool
		addrs []string
	}{
		{"good", good, true, []string{"10.0.0.5:47220"}},
		{"ourselves", with(func(e *pexEntry) { e.ID = self }), false, nil},
		{"the reporter", with(func(e *pexEntry) { e.ID = from }), false, nil},
		{"bad id", with(func(e *pexEntry) { e.ID = "x" }), false, nil},
		{"bad fingerprint", with(func(e *pexEntry) { e.Fingerprint = strings.Repeat("AB", 32) }), false, nil},
		{"stale", with(func(e *pexEntry) { e.LastReached = now.Add(-time.Hour).Unix() }), false, nil},
		{"only bad addresses", with(func(e *pexEntry) {
			e.Addresses = []string{"127.0.0.1:1", "224.0.0.251:5353", "0.0.0.0:2", "[fe80::1]:3", "[fe80::1%eth0]:3", "pc.lan:4", "10.0.0.1:0", "x"}
		}), false, nil},
		{"bad ones dropped, at most 4 kept", with(func(e *pexEntry) {
			e.Addresses = []string{"127.0.0.1:1", "10.0.0.1:1", "10.0.0.1:1", "10.0.0.2:1", "[fd00::3]:1", "10.0.0.4:1", "10.0.0.5:1"}
		}), true, []string{"10.0.0.1:1", "10.0.0.2:1", "[fd00::3]:1", "10.0.0.4:1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := validPexEntry(c.e, self, from, now)
			if (err == nil) != c.ok {
				t.Fatalf("err %v, want ok %v", err, c.ok)
			}
			if c.ok && strings.Join(got.Addresses, " ") != strings.Join(c.addrs, " ") {
				t.Fatalf("addresses %v, want %v", got.Addresses, c.addrs)
			}
		})
	}
}

// Learned peers are bounded like hints, and two reports that disagree on
// a peer's key do not replace the first.
func TestLearnBounded(t *testing.T) {
	l := newLiveness(nil, LivenessConfig{})
	now := time.Now()
	fp := strings.Repeat("ab", 32)
	for i := range maxHints + 10 {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012x", i)
		l.learn(id, fp, []string{"10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1", "10.0.0.4:1", "10.0.0.5:1"}, "r", now)
	}
	if len(l.learned) != maxHints {
		t.Fatalf("%d learned, want %d", len(l.learned), maxHints)
	}
	for _, lp := range l.learned {
		if len(lp.addrs) > maxHintAddrs {
			t.Fatalf("%d addresses", len(lp.addrs))
		}
	}
	id := "00000000-0000-4000-8000-000000000000"
	l2 := newLiveness(nil, LivenessConfig{})
	l2.learn(id, fp, []string{"10.0.0.1:1"}, "r1", now)
	if l2.learn(id, strings.Repeat("cd", 32), []string{"10.0.0.9:1"}, "r2", now) || l2.learned[id].fp != fp {
		t.Fatalf("a second report with another key replaced the first: %+v", l2.learned[id])
	}
	for range hintTries {
		l2.learnedDone(id, false, now)
	}
	if l2.learn(id, fp, []string{"10.0.0.1:1"}, "r1", now) {
		t.Fatal("an address that failed its probes was taken again at once")
	}
}

// FuzzPexAnswer decodes arbitrary peer.list answers and checks what the
// validation lets through.
func FuzzPexAnswer(f *testing.F) {
	f.Add([]byte(`{"peers":[{"id":"33333333-2222-4333-8444-555555555555","fingerprint":"` + strings.Repeat("ab", 32) + `","addresses":["10.0.0.5:47220"],"last_reached":1}]}`))
	f.Add([]byte(`{"peers":[{"id":"","addresses":["127.0.0.1:1","[::]:0"]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var ans pexAnswer
		if json.Unmarshal(data, &ans) != nil {
			return
		}
		now := time.Unix(1, 0)
		for _, e := range ans.Peers {
			got, err := validPexEntry(e, "11111111-2222-4333-8444-555555555555", "22222222-2222-4333-8444-555555555555", now)
			if err != nil {
				continue
			}
			if len(got.Addresses) == 0 || len(got.Addresses) > pexMaxAddrs || !validFingerprint(got.Fingerprint) {
				t.Fatalf("accepted %+v", got)
			}
			for _, a := range got.Addresses {
				if !usableLearnedAddr(a) {
					t.Fatalf("accepted address %q", a)
				}
			}
		}
	})
}
