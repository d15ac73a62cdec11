package identity

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func newIdentity(t *testing.T) (*Identity, []byte, []byte) {
	t.Helper()
	id, certPEM, keyPEM, err := NewIdentity(uuid.New())
	if err != nil {
		t.Fatal(err)
	}
	return id, certPEM, keyPEM
}

func TestLoadOrCreateIdentityReloadsSameIdentity(t *testing.T) {
	// A home that does not exist yet: first start creates it.
	home := filepath.Join(t.TempDir(), "home")
	first, err := LoadOrCreateIdentity(home)
	if err != nil {
		t.Fatal(err)
	}
	if first.ID == uuid.Nil {
		t.Fatal("created identity has a nil uuid")
	}
	for _, name := range []string{identityKeyFile, identityCertFile} {
		st, err := os.Stat(filepath.Join(home, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", name, st.Mode().Perm())
		}
	}
	again, err := LoadOrCreateIdentity(home)
	if err != nil {
		t.Fatalf("reload: %v", err)
	}
	if again.ID != first.ID {
		t.Errorf("reloaded id %s, want %s", again.ID, first.ID)
	}
	if again.Fingerprint() != first.Fingerprint() {
		t.Errorf("reloaded fingerprint %s, want %s", again.Fingerprint(), first.Fingerprint())
	}
	if again.Code() != first.Code() {
		t.Errorf("reloaded code %s, want %s", again.Code(), first.Code())
	}
	if !bytes.Equal(again.Leaf.Raw, first.Leaf.Raw) {
		t.Error("reloaded certificate differs from the created one")
	}
}

func TestLoadOrCreateIdentityRefusesIncompleteIdentity(t *testing.T) {
	_, certPEM, keyPEM := newIdentity(t)
	_, otherCertPEM, _ := newIdentity(t)
	tests := []struct {
		name  string
		files map[string][]byte
	}{
		{"key without certificate", map[string][]byte{identityKeyFile: keyPEM}},
		{"certificate without key", map[string][]byte{identityCertFile: certPEM}},
		{"certificate of another key", map[string][]byte{identityKeyFile: keyPEM, identityCertFile: otherCertPEM}},
		{"garbage key", map[string][]byte{identityKeyFile: []byte("not a key"), identityCertFile: certPEM}},
		{"empty files", map[string][]byte{identityKeyFile: nil, identityCertFile: nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			for name, data := range tt.files {
				if err := os.WriteFile(filepath.Join(home, name), data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := LoadOrCreateIdentity(home); err == nil {
				t.Fatal("incomplete identity loaded without error")
			}
			// Nothing was regenerated or overwritten.
			for _, name := range []string{identityKeyFile, identityCertFile} {
				got, err := os.ReadFile(filepath.Join(home, name))
				want, had := tt.files[name]
				switch {
				case !had && !errors.Is(err, os.ErrNotExist):
					t.Errorf("%s was created (err %v)", name, err)
				case had && (err != nil || !bytes.Equal(got, want)):
					t.Errorf("%s was changed (err %v)", name, err)
				}
			}
		})
	}
}

func TestNewIdentityNamesItsUUID(t *testing.T) {
	u := uuid.New()
	id, _, _, err := NewIdentity(u)
	if err != nil {
		t.Fatal(err)
	}
	if id.ID != u {
		t.Fatalf("ID %s, want %s", id.ID, u)
	}
	got, err := CertificatePeerID(id.Leaf)
	if err != nil || got != u {
		t.Fatalf("CertificatePeerID = %s, %v; want %s", got, err, u)
	}
	if id.Leaf.PublicKeyAlgorithm != x509.ECDSA {
		t.Fatalf("key algorithm %v, want ECDSA", id.Leaf.PublicKeyAlgorithm)
	}
}

func TestCertificatePeerIDRejectsNonUUIDSubject(t *testing.T) {
	for _, cn := range []string{"", "peerdesk", "1234", uuid.NewString() + "x"} {
		_, err := CertificatePeerID(&x509.Certificate{Subject: pkix.Name{CommonName: cn}})
		if !errors.Is(err, ErrBadCertificate) {
			t.Errorf("CN %q: err = %v, want ErrBadCertificate", cn, err)
		}
	}
}

func TestFingerprintIsSHA256OfSPKI(t *testing.T) {
	id, _, _ := newIdentity(t)
	spki, err := x509.MarshalPKIXPublicKey(id.Leaf.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(spki)
	want := hex.EncodeToString(sum[:])
	if got := id.Fingerprint(); got != want {
		t.Fatalf("fingerprint %s, want %s", got, want)
	}

	// A renewed certificate for the same key keeps the fingerprint.
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      id.Leaf.Subject,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	signer := id.Certificate.PrivateKey.(crypto.Signer)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, signer.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	renewed, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(renewed.Raw, id.Leaf.Raw) {
		t.Fatal("renewed certificate is the same certificate")
	}
	if got := Fingerprint(renewed); got != want {
		t.Fatalf("renewed fingerprint %s, want %s", got, want)
	}

	other, _, _ := newIdentity(t)
	if other.Fingerprint() == want {
		t.Fatal("two keys share a fingerprint")
	}
}

var codePattern = regexp.MustCompile(`^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$`)

func TestVerificationCode(t *testing.T) {
	tests := []struct {
		name, fp, want string
	}{
		{"all zero", strings.Repeat("00", 32), "AAAA-AAAA-AAAA-AAAA"},
		{"all ones", strings.Repeat("ff", 32), "7777-7777-7777-7777"},
		// Only the first 80 bits count.
		{"exactly 10 bytes", "00443214c74254b635cf", "ABCD-EFGH-IJKL-MNOP"},
		{"first 80 bits", "00443214c74254b635cf" + strings.Repeat("ab", 22), "ABCD-EFGH-IJKL-MNOP"},
		{"too short", strings.Repeat("00", 9), ""},
		{"not hex", strings.Repeat("zz", 32), ""},
		{"odd length", strings.Repeat("0", 63), ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := VerificationCode(tt.fp); got != tt.want {
				t.Fatalf("VerificationCode(%q) = %q, want %q", tt.fp, got, tt.want)
			}
		})
	}
	for range 20 {
		id, _, _ := newIdentity(t)
		if code := id.Code(); !codePattern.MatchString(code) {
			t.Fatalf("code %q does not look like XXXX-XXXX-XXXX-XXXX", code)
		}
	}
}

func TestMatchesFingerprint(t *testing.T) {
	id, _, _ := newIdentity(t)
	fp := id.Fingerprint()
	code := id.Code()
	other, _, _ := newIdentity(t)
	colons := func(s string) string {
		var parts []string
		for i := 0; i < len(s); i += 2 {
			parts = append(parts, s[i:i+2])
		}
		return strings.Join(parts, ":")
	}
	tests := []struct {
		name  string
		input string
		want  bool
	}{
		{"full hex", fp, true},
		{"full hex upper case", strings.ToUpper(fp), true},
		{"full hex with colons", colons(fp), true},
		{"full hex upper case with colons", strings.ToUpper(colons(fp)), true},
		{"full hex with spaces", strings.ReplaceAll(colons(fp), ":", " "), true},
		{"code", code, true},
		{"code without dashes", strings.ReplaceAll(code, "-", ""), true},
		{"code lower case", strings.ToLower(code), true},
		{"code with spaces", strings.ReplaceAll(code, "-", " "), true},
		{"empty", "", false},
		{"only separators", " :-: ", false},
		{"hex prefix", fp[:32], false},
		{"hex with extra digit", fp + "0", false},
		{"code prefix", code[:14], false},
		{"code with extra char", code + "A", false},
		{"other fingerprint", other.Fingerprint(), false},
		{"other code", other.Code(), false},
		{"one hex digit changed", flipHexDigit(fp), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MatchesFingerprint(fp, tt.input); got != tt.want {
				t.Fatalf("MatchesFingerprint(fp, %q) = %v, want %v", tt.input, got, tt.want)
			}
		})
	}
	if MatchesFingerprint("", "") || MatchesFingerprint("not hex", "") {
		t.Fatal("an empty input matched")
	}
}

func flipHexDigit(s string) string {
	b := []byte(s)
	if b[len(b)-1] == '0' {
		b[len(b)-1] = '1'
	} else {
		b[len(b)-1] = '0'
	}
	return string(b)
}
