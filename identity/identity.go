package identity

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base32"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/peerdesk/peerdesk/internal/atomicfile"
)

// Identity is this peer's long-lived identity: a uuid and the ECDSA P-256 key
// whose self-signed certificate names that uuid.
type Identity struct {
	ID          uuid.UUID
	Certificate tls.Certificate
	Leaf        *x509.Certificate
}

const (
	identityKeyFile  = "identity.key"
	identityCertFile = "identity.crt"
)

// LoadOrCreateIdentity reads the identity kept in dir, creating it (0600) on
// first start. A key without its certificate, or a certificate that does not
// match the key, is an error rather than a silent regeneration: a new key
// would make every other peer see this one as "identity changed".
func LoadOrCreateIdentity(dir string) (*Identity, error) {
	keyPath := filepath.Join(dir, identityKeyFile)
	certPath := filepath.Join(dir, identityCertFile)
	keyPEM, kerr := os.ReadFile(keyPath)
	certPEM, cerr := os.ReadFile(certPath)
	switch {
	case kerr == nil && cerr == nil:
		return parseIdentity(certPEM, keyPEM)
	case errors.Is(kerr, os.ErrNotExist) && errors.Is(cerr, os.ErrNotExist):
	case kerr != nil && !errors.Is(kerr, os.ErrNotExist):
		return nil, fmt.Errorf("read identity key: %w", kerr)
	case cerr != nil && !errors.Is(cerr, os.ErrNotExist):
		return nil, fmt.Errorf("read identity certificate: %w", cerr)
	default:
		return nil, fmt.Errorf("identity in %s is incomplete (one of %s, %s is missing)", dir, identityKeyFile, identityCertFile)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create home: %w", err)
	}
	id, certPEM, keyPEM, err := NewIdentity(uuid.New())
	if err != nil {
		return nil, err
	}
	// The key goes first: a crash between the two writes leaves a key without
	// a certificate, which the next start reports instead of guessing.
	if err := atomicfile.WriteFile(keyPath, keyPEM, 0o600); err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(certPath, certPEM, 0o600); err != nil {
		return nil, err
	}
	return id, nil
}

// NewIdentity makes a fresh key and certificate for id and returns them with
// their PEM encodings.
func NewIdentity(id uuid.UUID) (*Identity, []byte, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("generate serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: id.String(), Organization: []string{"Peerdesk"}},
		NotBefore:             now.Add(-24 * time.Hour),
		NotAfter:              now.AddDate(30, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("create certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("encode key: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	ident, err := parseIdentity(certPEM, keyPEM)
	return ident, certPEM, keyPEM, err
}

func parseIdentity(certPEM, keyPEM []byte) (*Identity, error) {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("load identity: %w", err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("parse identity certificate: %w", err)
	}
	cert.Leaf = leaf
	if _, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok {
		return nil, errors.New("identity key is not ECDSA")
	}
	id, err := CertificatePeerID(leaf)
	if err != nil {
		return nil, err
	}
	return &Identity{ID: id, Certificate: cert, Leaf: leaf}, nil
}

// Fingerprint is the identity's key fingerprint (see Fingerprint).
func (id *Identity) Fingerprint() string { return Fingerprint(id.Leaf) }

// Code is the identity's short verification code (see VerificationCode).
func (id *Identity) Code() string { return VerificationCode(id.Fingerprint()) }

// CertificatePeerID returns the uuid a peer certificate names in its subject.
func CertificatePeerID(cert *x509.Certificate) (uuid.UUID, error) {
	id, err := uuid.Parse(cert.Subject.CommonName)
	if err != nil {
		return uuid.Nil, fmt.Errorf("%w: certificate subject %q is not a peer id", ErrBadCertificate, cert.Subject.CommonName)
	}
	return id, nil
}

// Fingerprint is the lowercase hex SHA-256 of the certificate's
// SubjectPublicKeyInfo: it names the key, so a renewed certificate for the
// same key keeps its fingerprint.
func Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return hex.EncodeToString(sum[:])
}

// VerificationCode turns a fingerprint into the short code two people read to
// each other: the first 80 bits in base32, in four groups of four
// ("ABCD-EFGH-IJKL-MNOP"). An unparsable fingerprint gives "".
func VerificationCode(fingerprint string) string {
	raw, err := hex.DecodeString(fingerprint)
	if err != nil || len(raw) < 10 {
		return ""
	}
	s := base32.StdEncoding.EncodeToString(raw[:10])
	return s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
}

// MatchesFingerprint reports whether s, as typed by a person, names the
// fingerprint fp: either the full hex (any case, colons allowed) or its
// verification code (any case, dashes and spaces optional).
func MatchesFingerprint(fp, s string) bool {
	norm := strings.ToLower(strings.NewReplacer(":", "", " ", "", "-", "").Replace(s))
	if norm == "" {
		return false
	}
	if norm == fp {
		return true
	}
	code := strings.ToLower(strings.ReplaceAll(VerificationCode(fp), "-", ""))
	return code != "" && norm == code
}
