package discovery

import (
	"net"
	"os"
	"reflect"
	"strings"
	"testing"
)

func writeFile(p, s string) error { return os.WriteFile(p, []byte(s), 0o600) }

const testFP = "47bad3e4955d8798f3aacac2b706a2716e77cf26f8aaa58f4334ea5c330aa160"

func TestTXTRoundTrip(t *testing.T) {
	a := Announcement{ID: "0d7e5c1e-8b1a-4bb8-9d57-3a3f0f1a2b3c", Name: "Ana's PC = front desk", Fingerprint: testFP, Port: 47220, Version: 1}
	got, err := ParseTXT(a.TXT())
	if err != nil {
		t.Fatal(err)
	}
	a.Port = 0 // the port travels in SRV, not TXT
	if !reflect.DeepEqual(got, a) {
		t.Fatalf("got %+v, want %+v", got, a)
	}
}

func TestParseTXTRejects(t *testing.T) {
	good := []string{"id=0d7e5c1e-8b1a-4bb8-9d57-3a3f0f1a2b3c", "fp=" + testFP, "v=1", "name=x"}
	replace := func(i int, s string) []string {
		c := append([]string(nil), good...)
		c[i] = s
		return c
	}
	cases := map[string][]string{
		"no id":            good[1:],
		"bad id":           replace(0, "id=../../etc"),
		"upper id":         replace(0, "id=0D7E5C1E-8B1A-4BB8-9D57-3A3F0F1A2B3C"),
		"short fp":         replace(1, "fp=abcd"),
		"non-hex fp":       replace(1, "fp="+strings.Repeat("z", 64)),
		"bad version":      replace(2, "v=one"),
		"negative version": replace(2, "v=-1"),
	}
	for name, txt := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseTXT(txt); err == nil {
				t.Fatalf("accepted %v", txt)
			}
		})
	}
	long := replace(3, "name="+strings.Repeat("n", 500))
	a, err := ParseTXT(long)
	if err != nil || len(a.Name) != 128 {
		t.Fatalf("long name: %v len %d", err, len(a.Name))
	}
}

func TestEntryAddresses(t *testing.T) {
	got := EntryAddresses(
		[]net.IP{net.ParseIP("10.1.2.3"), net.IPv4zero},
		[]net.IP{net.ParseIP("fe80::1"), net.ParseIP("2001:db8::5")},
		47220)
	want := []string{"10.1.2.3:47220", "[2001:db8::5]:47220"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func FuzzParseTXT(f *testing.F) {
	f.Add("id=0d7e5c1e-8b1a-4bb8-9d57-3a3f0f1a2b3c", "fp="+testFP, "v=1", "name=x")
	f.Add("", "=", "v=99999999999999999999", "name")
	f.Fuzz(func(t *testing.T, a, b, c, d string) {
		ann, err := ParseTXT([]string{a, b, c, d})
		if err != nil {
			return
		}
		if !validID(ann.ID) || len(ann.Fingerprint) != 64 || len(ann.Name) > 128 {
			t.Fatalf("accepted invalid announcement %+v", ann)
		}
		again, err := ParseTXT(ann.TXT())
		if err != nil || again != ann {
			t.Fatalf("round trip: %+v -> %+v (%v)", ann, again, err)
		}
	})
}
