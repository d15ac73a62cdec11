package access

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestHashPasswordFormat(t *testing.T) {
	h, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !re.MatchString(h) {
		t.Fatalf("hash %q is not PHC argon2id with a 16-byte salt", h)
	}
	h2, _ := HashPassword("correct horse")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	if strings.Contains(h, "correct") {
		t.Fatal("hash contains the password")
	}
}

func TestVerifyPassword(t *testing.T) {
	h, err := HashPassword("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		pw   string
		want bool
	}{
		{"s3cret", true}, {"s3cret ", false}, {"S3cret", false}, {"", false}, {strings.Repeat("x", 5000), false},
	} {
		ok, err := VerifyPassword(h, tc.pw)
		if err != nil || ok != tc.want {
			t.Errorf("VerifyPassword(%q) = %v, %v; want %v", tc.pw, ok, err, tc.want)
		}
	}
	start := time.Now()
	if _, err := VerifyPassword(h, "s3cret"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Errorf("one verification took %v; keep it well under 100 ms on a normal machine", d)
	} else {
		t.Logf("argon2id verification: %v", d)
	}
}

func TestParsePHCRefuses(t *testing.T) {
	good, _ := HashPassword("x")
	parts := strings.Split(good, "$")
	for _, bad := range []string{
		"", "plain", "$argon2i$v=19$m=19456,t=2,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=16$m=19456,t=2,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=99999999,t=2,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=19456,t=0,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=19456,t=2,p=200$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$t=2,m=19456,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=19456,t=2,p=1$!!$" + parts[5],
		"$argon2id$v=19$m=19456,t=2,p=1$" + parts[4] + "$c2hvcnQ",
	} {
		if _, err := parsePHC(bad); err == nil {
			t.Errorf("parsePHC(%q) accepted", bad)
		}
	}
	if _, err := VerifyPassword("garbage", "x"); err == nil {
		t.Error("VerifyPassword accepted a malformed hash")
	}
}

// FuzzParsePHC: the stored-hash decoder never panics and bounds what a
// verification may cost.
func FuzzParsePHC(f *testing.F) {
	good, _ := HashPassword("x")
	f.Add(good)
	f.Add("$argon2id$v=19$m=1,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$$$$$")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parsePHC(s)
		if err != nil {
			return
		}
		if p.memory > maxArgonMemory || p.time > maxArgonTime || p.threads > maxArgonThreads || p.threads == 0 || len(p.salt) < 8 || len(p.key) < 16 || len(p.key) > 64 {
			t.Fatalf("parsePHC(%q) accepted out-of-range parameters %+v", s, p)
		}
	})
}
