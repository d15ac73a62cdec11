package transport

import (
	"errors"
	"regexp"
	"slices"
	"sync"

	"github.com/peerdesk/peerdesk/identity"
)

// Failure classes on the wire.
//
// A failed Response carries Code, the generic class every version of the
// protocol knows (denied, not_found, bad_request, internal), and Classes,
// the specific classes of the failure (busy, disk_full, hash_mismatch,
// unsupported_format, …) that the packages above the transport declare
// with RegisterClass. The caller's RemoteError matches, with errors.Is,
// the sentinel errors of its Code and of each of its Classes: no caller
// needs to read a message to know what happened, and rewording a message
// changes no exit code and no wording on a screen.

// Class names a failure class of the wire, bound to one sentinel error.
type Class struct {
	Name     string
	Sentinel error
}

var (
	classesMu sync.RWMutex
	classes   []Class
	// classPattern bounds the class names a peer may send.
	classPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
)

// maxClasses bounds the classes of one response.
const maxClasses = 8

// RegisterClass declares that an error matching sentinel travels with the
// class name, and that a remote failure with that class matches sentinel.
// Packages register their sentinels in init; a name or a sentinel
// registered twice panics.
func RegisterClass(name string, sentinel error) {
	if !classPattern.MatchString(name) || sentinel == nil {
		panic("transport: bad failure class " + name)
	}
	classesMu.Lock()
	defer classesMu.Unlock()
	for _, c := range classes {
		if c.Name == name || c.Sentinel == sentinel {
			panic("transport: failure class registered twice: " + name)
		}
	}
	classes = append(classes, Class{Name: name, Sentinel: sentinel})
}

// Classes returns every registered class, in registration order.
func Classes() []Class {
	classesMu.RLock()
	defer classesMu.RUnlock()
	return slices.Clone(classes)
}

// ClassesOf returns the names of the registered classes err matches.
func ClassesOf(err error) []string {
	var out []string
	for _, c := range Classes() {
		if errors.Is(err, c.Sentinel) && len(out) < maxClasses {
			out = append(out, c.Name)
		}
	}
	return out
}

// SentinelOf returns the sentinel error of a class name, if registered.
func SentinelOf(name string) (error, bool) {
	classesMu.RLock()
	defer classesMu.RUnlock()
	for _, c := range classes {
		if c.Name == name {
			return c.Sentinel, true
		}
	}
	return nil, false
}

// codeOf is the generic code of err.
func codeOf(err error) string {
	switch {
	case errors.Is(err, ErrAccessDenied):
		return CodeDenied
	case errors.Is(err, ErrNotFound):
		return CodeNotFound
	case errors.Is(err, ErrProtocol):
		return CodeBadRequest
	}
	return CodeInternal
}

// sentinelOfCode is the sentinel of a generic code.
func sentinelOfCode(code string) error {
	switch code {
	case CodeDenied:
		return ErrAccessDenied
	case CodeNotFound:
		return ErrNotFound
	}
	// bad_request is not this side's ErrProtocol (garbage received from
	// the peer) but the peer's complaint about what this side sent.
	return nil
}

func init() {
	// The transport's own classes beyond the generic codes.
	RegisterClass("identity_changed", identity.ErrIdentityChanged)
	RegisterClass("wrong_peer", ErrWrongPeer)
	RegisterClass("truncated", ErrTruncated)
	RegisterClass("too_large", ErrFrameTooLarge)
	RegisterClass("stalled", ErrStalled)
	RegisterClass("unreachable", ErrUnreachable)
}
