package printing

import (
	"fmt"
	"strings"
)

// QueueName is the local queue name for printer on peer: "PEER-PRINTER"
// reduced to what every spooler takes (letters, digits, '-', '_'), at most
// 127 bytes, never empty.
func QueueName(peer, printer string) string {
	clean := func(s string) string {
		return strings.Trim(strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_':
				return r
			}
			return '-'
		}, s), "-")
	}
	name := clean(peer) + "-" + clean(printer)
	name = strings.Trim(name, "-")
	if name == "" {
		name = "peerdesk-printer"
	}
	if len(name) > 120 {
		name = name[:120]
	}
	return name
}

// osQueueErr wraps the output of a failed spooler administration command.
func osQueueErr(what, name string, out []byte, err error) error {
	msg := strings.TrimSpace(string(out))
	if len(msg) > 300 {
		msg = msg[:300]
	}
	if msg != "" {
		return fmt.Errorf("%s %s: %w: %s", what, name, err, msg)
	}
	return fmt.Errorf("%s %s: %w", what, name, err)
}

// checkQueueName refuses names CUPS cannot have (RFC 8011 names, minus what
// CUPS forbids: "/", "#", "\", quotes, space and control characters), so
// nothing odd ends up in a URI.
func checkQueueName(name string) error {
	if name == "" || len(name) > 127 || strings.ContainsFunc(name, func(r rune) bool {
		return r <= ' ' || r == 0x7f || strings.ContainsRune(`/#\'"`, r)
	}) {
		return fmt.Errorf("print queue %q: not a valid queue name: %w", name, ErrQueueNotFound)
	}
	return nil
}
