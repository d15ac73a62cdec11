package access

import (
	"errors"

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

// NewClassError is a sentinel error with message msg that also matches
// class with errors.Is.
func NewClassError(msg string, class error) error { return &classError{msg, class} }

// Sentinel errors of the access core callers branch on.
var (
	// ErrBusy: the same upload is already running, or a peer has too many
	// requests in flight; retry later.
	ErrBusy = errors.New("busy")
	// ErrExists: an account or share with that name exists already.
	ErrExists = errors.New("already exists")
	// ErrInvalid: a name, right or setting does not meet the rules.
	ErrInvalid = errors.New("invalid")
	// ErrNoAccount: no such local account. errors.Is(err,
	// transport.ErrNotFound) holds.
	ErrNoAccount = NewClassError("no such account", transport.ErrNotFound)
	// ErrNoShare: no such share. errors.Is(err, transport.ErrNotFound) holds.
	ErrNoShare = NewClassError("no such share", transport.ErrNotFound)
	// ErrRateLimited: too many failed logins from this peer (or for this
	// account): attempts are refused unchecked for a while. It is an
	// access refusal: errors.Is(err, transport.ErrAccessDenied) holds.
	ErrRateLimited = NewClassError("access denied: too many failed logins", transport.ErrAccessDenied)
)

// Shorten keeps hostile input from bloating error messages and logs.
func Shorten(s string) string {
	const max = 120
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}

// The access core's failure classes on the wire: a caller's error matches
// each sentinel with errors.Is whatever its message says.
func init() {
	transport.RegisterClass("busy", ErrBusy)
	transport.RegisterClass("exists", ErrExists)
	transport.RegisterClass("invalid", ErrInvalid)
	transport.RegisterClass("no_account", ErrNoAccount)
	transport.RegisterClass("no_share", ErrNoShare)
	transport.RegisterClass("rate_limited", ErrRateLimited)
}
