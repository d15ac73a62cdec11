package shares

import (
	"errors"
	"fmt"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/transport"
)

// Sentinel errors of the file service callers branch on.
var (
	// ErrBadPath: a share-relative path was refused (dot-dot, absolute,
	// reserved name or character, escapes the share). It is an access
	// refusal: errors.Is(err, transport.ErrAccessDenied) holds.
	ErrBadPath = access.NewClassError("bad path", transport.ErrAccessDenied)
	// ErrDiskFull: the receiving disk has no room left. The partial data
	// stays under its temp name, resumable once space is freed; the final
	// name never appears.
	ErrDiskFull = errors.New("disk full")
	// ErrHashMismatch: received data does not hash to the announced
	// SHA-256. The partial data is deleted.
	ErrHashMismatch = errors.New("sha-256 mismatch")
)

// badPath builds an ErrBadPath error naming the reason.
func badPath(p, why string) error {
	return fmt.Errorf("%w %q: %s", ErrBadPath, access.Shorten(p), why)
}

// The failure classes of the file service on the wire: a caller's error
// matches each sentinel with errors.Is whatever its message says.
func init() {
	transport.RegisterClass("bad_path", ErrBadPath)
	transport.RegisterClass("disk_full", ErrDiskFull)
	transport.RegisterClass("hash_mismatch", ErrHashMismatch)
}
