package discovery

import (
	"io"
	"log/slog"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

const (
	testID  = "0d7e5c1e-8b1a-4bb8-9d57-3a3f0f1a2b3c"
	otherID = "11111111-2222-4333-8444-555555555555"
)

// answer is what zeroconf's Server sends for a browse: PTR, SRV, TXT and
// the host's addresses.
func answer(id string, ttl uint32, txt []string, ip string) *dns.Msg {
	inst := id + "." + serviceName
	host := "host-" + id[:4] + ".local."
	m := new(dns.Msg)
	m.Response = true
	m.Answer = []dns.RR{&dns.PTR{Hdr: dns.RR_Header{Name: serviceName, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: ttl}, Ptr: inst}}
	m.Extra = []dns.RR{
		&dns.SRV{Hdr: dns.RR_Header{Name: inst, Rrtype: dns.TypeSRV, Class: dns.ClassINET, Ttl: ttl}, Port: 47220, Target: host},
		&dns.TXT{Hdr: dns.RR_Header{Name: inst, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: ttl}, Txt: txt},
		&dns.A{Hdr: dns.RR_Header{Name: host, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: ttl}, A: net.ParseIP(ip)},
	}
	return m
}

func newTestBrowser(self string) (*Browser, *[]Observation) {
	var got []Observation
	b := NewBrowser(self, slog.New(slog.NewTextHandler(io.Discard, nil)), func(o Observation) { got = append(got, o) })
	return b, &got
}

func txtOf(id string) []string {
	return Announcement{ID: id, Fingerprint: testFP, Name: "Ana"}.TXT()
}

func TestBrowserReadsAnswers(t *testing.T) {
	now := time.Now()
	cases := []struct {
		name string
		msg  *dns.Msg
		want []Observation
	}{
		{"a peer", answer(otherID, 30, txtOf(otherID), "10.0.0.7"),
			[]Observation{{ID: otherID, Name: "Ana", Fingerprint: testFP, Addresses: []string{"10.0.0.7:47220"}}}},
		{"ourselves", answer(testID, 30, txtOf(testID), "10.0.0.8"), nil},
		{"goodbye", answer(otherID, 0, txtOf(otherID), "10.0.0.7"), nil},
		{"instance is not the id it claims", answer(otherID, 30, txtOf("22222222-2222-4333-8444-555555555555"), "10.0.0.7"), nil},
		{"malformed txt", answer(otherID, 30, []string{"id=nope"}, "10.0.0.7"), nil},
		{"no address", func() *dns.Msg { m := answer(otherID, 30, txtOf(otherID), "10.0.0.7"); m.Extra = m.Extra[:2]; return m }(), nil},
		{"another service", func() *dns.Msg {
			m := answer(otherID, 30, txtOf(otherID), "10.0.0.7")
			for _, rr := range append(m.Answer, m.Extra[:2]...) {
				if rr.Header().Rrtype == dns.TypePTR {
					rr.(*dns.PTR).Ptr = otherID + "._other._udp.local."
				} else {
					rr.Header().Name = otherID + "._other._udp.local."
				}
			}
			return m
		}(), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, got := newTestBrowser(testID)
			b.handle(c.msg, now)
			if !reflect.DeepEqual(*got, c.want) {
				t.Fatalf("got %+v, want %+v", *got, c.want)
			}
		})
	}
}

// A peer heard from is listed as a known answer, so it does not answer
// the next query (RFC 6762 §7.1) until half its TTL is gone; a goodbye
// takes it off, and AskAgain takes off the one peer it names.
func TestBrowserKnownAnswers(t *testing.T) {
	b, _ := newTestBrowser(testID)
	now := time.Now()
	b.handle(answer(otherID, 30, txtOf(otherID), "10.0.0.7"), now)
	known := func(at time.Time) []string {
		buf, err := b.query(at)
		if err != nil {
			t.Fatal(err)
		}
		var m dns.Msg
		if err := m.Unpack(buf); err != nil {
			t.Fatal(err)
		}
		if len(m.Question) != 1 || m.Question[0].Name != serviceName || m.Question[0].Qclass != dns.ClassINET|1<<15 {
			t.Fatalf("question %+v, want PTR %s with the unicast bit", m.Question, serviceName)
		}
		var out []string
		for _, rr := range m.Answer {
			out = append(out, rr.(*dns.PTR).Ptr)
		}
		return out
	}
	inst := otherID + "." + serviceName
	if got := known(now.Add(time.Second)); !reflect.DeepEqual(got, []string{inst}) {
		t.Fatalf("known answers %v, want %v", got, inst)
	}
	if got := known(now.Add(16 * time.Second)); len(got) != 0 {
		t.Fatalf("known answers past half the TTL: %v", got)
	}
	b.handle(answer(otherID, 30, txtOf(otherID), "10.0.0.7"), now)
	b.handle(answer(otherID, 0, txtOf(otherID), "10.0.0.7"), now)
	if got := known(now); len(got) != 0 {
		t.Fatalf("known answers after a goodbye: %v", got)
	}
	b.handle(answer(otherID, 30, txtOf(otherID), "10.0.0.7"), now)
	const thirdID = "0b1e2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d"
	b.handle(answer(thirdID, 30, txtOf(thirdID), "10.0.0.8"), now)
	b.AskAgain(strings.ToUpper(otherID))
	if got, want := known(now), []string{thirdID + "." + serviceName}; !reflect.DeepEqual(got, want) {
		t.Fatalf("known answers after AskAgain(other): %v, want %v", got, want)
	}
}

// Hostile traffic cannot grow what the browser remembers past maxKnown.
func TestBrowserKnownIsBounded(t *testing.T) {
	b, _ := newTestBrowser(testID)
	now := time.Now()
	for i := range maxKnown + 50 {
		id := "00000000-0000-4000-8000-" + twelveHex(i)
		b.handle(answer(id, 30, txtOf(id), "10.0.0.7"), now)
	}
	if len(b.known) != maxKnown {
		t.Fatalf("%d known answers, want at most %d", len(b.known), maxKnown)
	}
	buf, err := b.query(now)
	if err != nil || len(buf) > maxPacket {
		t.Fatalf("query of %d bytes (%v), want at most %d", len(buf), err, maxPacket)
	}
}

func twelveHex(i int) string {
	const hex = "0123456789abcdef"
	b := []byte("000000000000")
	for j := len(b) - 1; i > 0; j-- {
		b[j] = hex[i%16]
		i /= 16
	}
	return string(b)
}

// FuzzBrowserMessage feeds arbitrary packets through the browser's
// decoder: no panic, and whatever it reports is a well-formed peer.
func FuzzBrowserMessage(f *testing.F) {
	buf, _ := answer(otherID, 30, txtOf(otherID), "10.0.0.7").Pack()
	f.Add(buf)
	buf, _ = answer(otherID, 0, txtOf(otherID), "10.0.0.7").Pack()
	f.Add(buf)
	f.Add([]byte{0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var m dns.Msg
		if m.Unpack(data) != nil {
			return
		}
		b, got := newTestBrowser(testID)
		b.handle(&m, time.Now())
		for _, o := range *got {
			if !validID(o.ID) || o.ID == testID || len(o.Addresses) == 0 || len(o.Fingerprint) != 64 {
				t.Fatalf("reported %+v", o)
			}
		}
		if len(b.known) > maxKnown {
			t.Fatalf("%d known", len(b.known))
		}
	})
}
