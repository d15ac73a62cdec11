package human

import (
	"strings"
	"testing"
)

func TestTerminalSafe(t *testing.T) {
	tests := []struct{ in, want string }{
		{"desk-2\tonline\n", "desk-2\tonline\n"},
		{"evil\x1b]0;pwned\x07name", "evil?]0;pwned?name"},
		{"clear\x1b[2J", "clear?[2J"},
		{"c1\u009bx", "c1?x"},
		{"file\u202egnp.exe", "file?gnp.exe"},
		{"Zoë's PC", "Zoë's PC"},
	}
	for _, tt := range tests {
		var b strings.Builder
		n, err := TerminalSafe(&b).Write([]byte(tt.in))
		if err != nil || n != len(tt.in) || b.String() != tt.want {
			t.Errorf("%q → %q (%d, %v), want %q", tt.in, b.String(), n, err, tt.want)
		}
	}
}

func FuzzTerminalSafe(f *testing.F) {
	f.Add("evil\x1b[2J\u202e")
	f.Fuzz(func(t *testing.T, s string) {
		var b strings.Builder
		if _, err := TerminalSafe(&b).Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(b.String(), "\x1b\x07\u009b\u202e") {
			t.Fatalf("%q passed through as %q", s, b.String())
		}
	})
}
