package access

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters for new hashes (OWASP's m=19 MiB, t=2, p=1): about
// 20–40 ms per verification on an office PC, which bounds how fast anyone
// can guess even before rate limiting.
const (
	argonMemory  = 19456 // KiB
	argonTime    = 2
	argonThreads = 1
	argonSaltLen = 16
	argonKeyLen  = 32
)

// Bounds on parameters read back from a stored hash, so a damaged or
// tampered file cannot make a verification allocate without limit.
const (
	maxArgonMemory  = 256 << 10 // KiB
	maxArgonTime    = 16
	maxArgonThreads = 16
	// MaxPasswordBytes bounds a password.
	MaxPasswordBytes = 1024
)

// hashSlots bounds concurrent argon2 computations: each takes ~19 MiB and a
// CPU, and a flood of logins must not take the machine down with it.
var hashSlots = make(chan struct{}, max(2, runtime.NumCPU()))

// HashPassword hashes password with argon2id and a random 16-byte salt and
// returns it in PHC string form:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt b64>$<hash b64>
func HashPassword(password string) (string, error) {
	if err := checkPassword(password); err != nil {
		return "", err
	}
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	p := phc{memory: argonMemory, time: argonTime, threads: argonThreads, salt: salt}
	p.key = p.derive(password, argonKeyLen)
	return p.String(), nil
}

// VerifyPassword reports whether password matches the PHC-form argon2id
// hash. The comparison takes constant time; a malformed hash is an error.
func VerifyPassword(hash, password string) (bool, error) {
	p, err := parsePHC(hash)
	if err != nil {
		return false, err
	}
	if len(password) > MaxPasswordBytes {
		// Still spend the time, so length does not show in timing.
		_ = p.derive("", len(p.key))
		return false, nil
	}
	got := p.derive(password, len(p.key))
	return subtle.ConstantTimeCompare(got, p.key) == 1, nil
}

func checkPassword(password string) error {
	switch {
	case password == "":
		return fmt.Errorf("%w: empty password", ErrInvalid)
	case len(password) > MaxPasswordBytes:
		return fmt.Errorf("%w: password longer than %d bytes", ErrInvalid, MaxPasswordBytes)
	}
	return nil
}

// phc is a parsed argon2id PHC string.
type phc struct {
	memory  uint32
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

var b64 = base64.RawStdEncoding

func (p phc) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.time, p.threads, b64.EncodeToString(p.salt), b64.EncodeToString(p.key))
}

func (p phc) derive(password string, keyLen int) []byte {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	return argon2.IDKey([]byte(password), p.salt, p.time, p.memory, p.threads, uint32(keyLen))
}

// parsePHC decodes and bounds-checks an argon2id PHC string.
func parsePHC(s string) (phc, error) {
	bad := func(why string) (phc, error) {
		return phc{}, fmt.Errorf("%w: password hash: %s", ErrInvalid, why)
	}
	if len(s) > 512 {
		return bad("too long")
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return bad("not a PHC string")
	}
	if parts[1] != "argon2id" {
		return bad("algorithm is not argon2id")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return bad("unsupported version")
	}
	var p phc
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return bad("parameters")
	}
	for i, want := range []string{"m", "t", "p"} {
		k, v, ok := strings.Cut(params[i], "=")
		if !ok || k != want {
			return bad("parameters")
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n == 0 {
			return bad("parameter " + want)
		}
		switch want {
		case "m":
			p.memory = uint32(n)
		case "t":
			p.time = uint32(n)
		case "p":
			if n > maxArgonThreads {
				return bad("parameter p out of range")
			}
			p.threads = uint8(n)
		}
	}
	if p.memory > maxArgonMemory || p.memory < 8*uint32(p.threads) || p.time > maxArgonTime {
		return bad("parameters out of range")
	}
	var err error
	if p.salt, err = b64.DecodeString(parts[4]); err != nil || len(p.salt) < 8 || len(p.salt) > 64 {
		return bad("salt")
	}
	if p.key, err = b64.DecodeString(parts[5]); err != nil || len(p.key) < 16 || len(p.key) > 64 {
		return bad("hash")
	}
	return p, nil
}

// dummyHash is verified against when an account does not exist, so a
// missing account costs the same time as a wrong password.
var dummyHash = sync.OnceValue(func() string {
	p := phc{memory: argonMemory, time: argonTime, threads: argonThreads, salt: make([]byte, argonSaltLen)}
	p.key = p.derive("peerdesk-no-such-account", argonKeyLen)
	return p.String()
})
