package shares

import (
	"errors"
	"fmt"

	"github.com/peerdesk/peerdesk/transport"
)

// classError is a sentinel that also matches a broader class (an access
// refusal, a missing thing), so the CLI's exit codes follow from it
// without knowing this package.
type classError struct {
	msg   string
	class error
}

func (e *classError) Error() string { return e.msg }
func (e *classError) Unwrap() error { return e.class }

// Sentinel errors callers branch on.
var (
	// ErrBadPath: a share-relative path was refused (dot-dot, absolute,
	// reserved name or character, escapes the share). It is an access
	// refusal: errors.Is(err, transport.ErrAccessDenied) holds.
	ErrBadPath error = &classError{"bad path", transport.ErrAccessDenied}
	// ErrDiskFull: the receiving disk has no room left. The partial data
	// stays under its temp name, resumable once space is freed; the final
	// name never appears.
	ErrDiskFull = errors.New("disk full")
	// ErrHashMismatch: received data does not hash to the announced
	// SHA-256. The partial data is deleted.
	ErrHashMismatch = errors.New("sha-256 mismatch")
	// ErrBusy: the same upload is already running, or a peer has too many
	// requests in flight; retry later.
	ErrBusy = errors.New("busy")
	// ErrExists: an account or share with that name exists already.
	ErrExists = errors.New("already exists")
	// ErrInvalid: a name, right or setting does not meet the rules.
	ErrInvalid = errors.New("invalid")
	// ErrNoAccount: no such local account. errors.Is(err,
	// transport.ErrNotFound) holds.
	ErrNoAccount error = &classError{"no such account", transport.ErrNotFound}
	// ErrNoShare: no such share. errors.Is(err, transport.ErrNotFound) holds.
	ErrNoShare error = &classError{"no such share", transport.ErrNotFound}
)

// badPath builds an ErrBadPath error naming the reason.
func badPath(p, why string) error {
	return fmt.Errorf("%w %q: %s", ErrBadPath, truncateForMessage(p), why)
}

// truncateForMessage keeps hostile input from bloating error messages and
// logs.
func truncateForMessage(s string) string {
	const max = 120
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}

// The failure classes of the file service on the wire: a caller's error
// matches each sentinel with errors.Is whatever its message says.
func init() {
	transport.RegisterClass("bad_path", ErrBadPath)
	transport.RegisterClass("disk_full", ErrDiskFull)
	transport.RegisterClass("hash_mismatch", ErrHashMismatch)
	transport.RegisterClass("busy", ErrBusy)
	transport.RegisterClass("exists", ErrExists)
	transport.RegisterClass("invalid", ErrInvalid)
	transport.RegisterClass("no_account", ErrNoAccount)
	transport.RegisterClass("no_share", ErrNoShare)
}
