package human

import (
	"io"
	"unicode"
	"unicode/utf8"
)

// TerminalSafe wraps w so that what it writes cannot drive a terminal:
// control characters (ESC and the rest of C0 and C1, but for newline and
// tab) and the bidirectional overrides that can make text read backwards
// become '?'. Peer names, file names, share names and remote messages are
// chosen by other machines, some of them hostile; printed raw, an escape
// sequence in a name could rewrite the screen, retitle the window or hide
// what follows.
func TerminalSafe(w io.Writer) io.Writer { return terminalSafe{w} }

type terminalSafe struct{ w io.Writer }

func (t terminalSafe) Write(p []byte) (int, error) {
	clean := true
	for i := 0; i < len(p); {
		r, n := utf8.DecodeRune(p[i:])
		if unsafeRune(r) {
			clean = false
			break
		}
		i += n
	}
	if clean {
		return t.w.Write(p)
	}
	out := make([]byte, 0, len(p))
	for i := 0; i < len(p); {
		r, n := utf8.DecodeRune(p[i:])
		if unsafeRune(r) {
			out = append(out, '?')
		} else {
			out = append(out, p[i:i+n]...)
		}
		i += n
	}
	if _, err := t.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

func unsafeRune(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case r == utf8.RuneError:
		return false // invalid bytes are no escape sequence; kept as they are
	case unicode.IsControl(r):
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}
