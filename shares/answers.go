package shares

import (
	"fmt"
	"strings"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/transport"
)

// The answers a peer sends are as hostile as its requests: an owner we
// download from could answer with a negative size, a huge one, a name with
// a slash or a hash that is not one. Every answer is checked here before
// any of it is used (docs/security.md, M3).

func checkSize(what string, n int64) error {
	if n < 0 || n > MaxFileSize {
		return fmt.Errorf("%w: %s %d out of range", transport.ErrProtocol, what, n)
	}
	return nil
}

func checkSum(sum string) error {
	if sum == "" {
		return nil
	}
	if len(sum) != 64 || strings.Trim(sum, "0123456789abcdef") != "" {
		return fmt.Errorf("%w: sha256 %q is not a hex SHA-256", transport.ErrProtocol, access.Shorten(sum))
	}
	return nil
}

// validate checks an fs.stat or fs.list answer.
func (e Entry) validate() error {
	if err := checkSize("size", e.Size); err != nil {
		return err
	}
	if e.Name != "" && (strings.ContainsAny(e.Name, "/\\\x00") || len(e.Name) > 255) {
		return fmt.Errorf("%w: entry name %q", transport.ErrProtocol, access.Shorten(e.Name))
	}
	return checkSum(e.SHA256)
}

// validate checks an fs.tree answer's entry (its path is checked with
// CleanPath by the caller).
func (e TreeEntry) validate() error { return checkSize("size", e.Size) }

// validate checks a search answer's hit.
func (h SearchHit) validate() error {
	if err := checkSize("size", h.Size); err != nil {
		return err
	}
	if clean, err := CleanPath(h.Path); err != nil || clean != h.Path {
		return fmt.Errorf("%w: search hit path %q", transport.ErrProtocol, access.Shorten(h.Path))
	}
	return nil
}

// validate checks an fs.read answer.
func (m ReadMeta) validate() error {
	if err := checkSize("size", m.Size); err != nil {
		return err
	}
	if err := checkSize("length", m.Length); err != nil {
		return err
	}
	return checkSum(m.SHA256)
}

// validateAll checks every item of a list answer.
func validateAll[T interface{ validate() error }](op string, items []T) error {
	for _, it := range items {
		if err := it.validate(); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
	}
	return nil
}
