package app

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf16"
)

// What the macOS panel is asked: the title quoted so that no name can end
// the string (an AppleScript injection), several files only when wanted,
// a folder when one is wanted; and its answer read back.
func TestAppleScriptChooser(t *testing.T) {
	tests := []struct {
		req  pickRequest
		want []string
		not  []string
	}{
		{pickRequest{title: "Upload to Front desk:docs", multiple: true}, []string{`choose file with prompt "Upload to Front desk:docs" with multiple selections allowed`}, []string{"choose folder"}},
		{pickRequest{title: "Print on h0:pdf"}, []string{`{choose file with prompt "Print on h0:pdf"}`}, []string{"multiple"}},
		{pickRequest{title: "Share a folder", folder: true}, []string{`{choose folder with prompt "Share a folder"}`}, []string{"choose file"}},
		{pickRequest{title: "x\" & (do shell script \"rm -rf ~\") & \"\\\nnext"}, []string{`prompt "x\" & (do shell script \"rm -rf ~\") & \"\\ next"`}, nil},
	}
	for _, tt := range tests {
		s := appleScriptChooser(tt.req)
		for _, w := range tt.want {
			if !strings.Contains(s, w) {
				t.Errorf("%+v: script lacks %q:\n%s", tt.req, w, s)
			}
		}
		for _, n := range tt.not {
			if strings.Contains(s, n) {
				t.Errorf("%+v: script has %q:\n%s", tt.req, n, s)
			}
		}
		if !strings.Contains(s, "POSIX path of f") {
			t.Errorf("script prints no POSIX paths:\n%s", s)
		}
	}
	got := appleScriptPaths("/Users/bob/a.pdf\n/Users/bob/My Docs/b c.txt\n/Users/bob/Reports/\n\n")
	want := []string{"/Users/bob/a.pdf", "/Users/bob/My Docs/b c.txt", "/Users/bob/Reports"}
	if !slices.Equal(got, want) {
		t.Errorf("paths %q, want %q", got, want)
	}
	if got := appleScriptPaths("/\n"); !slices.Equal(got, []string{"/"}) {
		t.Errorf("root %q", got)
	}
	if !appleScriptCanceled("0:54: execution error: User canceled. (-128)\n") || appleScriptCanceled("0:54: execution error: Not authorized (-1743)") {
		t.Error("cancel not told from other errors")
	}
}

// The Windows Open dialog's answer: one full path, or a folder and names.
func TestWindowsChosenFiles(t *testing.T) {
	enc := func(parts ...string) []uint16 {
		var b []uint16
		for _, p := range parts {
			b = append(b, utf16.Encode([]rune(p))...)
			b = append(b, 0)
		}
		return append(b, 0, 0, 0) // the list's NUL, then unused buffer
	}
	tests := []struct {
		buf  []uint16
		want []string
	}{
		{enc(`C:\Users\bob\report.pdf`), []string{`C:\Users\bob\report.pdf`}},
		{enc(`C:\Users\bob\Docs`, "a.txt", "Überweisung 2026.pdf"), []string{`C:\Users\bob\Docs\a.txt`, `C:\Users\bob\Docs\Überweisung 2026.pdf`}},
		{enc(`D:\`, "x.bin", "y.bin"), []string{`D:\x.bin`, `D:\y.bin`}},
		{make([]uint16, 8), nil},
	}
	for _, tt := range tests {
		if got := windowsChosenFiles(tt.buf); !slices.Equal(got, tt.want) {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

// FuzzWindowsChosenFiles: whatever the buffer holds, reading it neither
// panics nor invents a path with a NUL in it.
func FuzzWindowsChosenFiles(f *testing.F) {
	f.Add([]byte("C\x00:\x00\\\x00\x00\x00a\x00\x00\x00\x00\x00"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, raw []byte) {
		buf := make([]uint16, len(raw)/2)
		for i := range buf {
			buf[i] = uint16(raw[2*i]) | uint16(raw[2*i+1])<<8
		}
		for _, p := range windowsChosenFiles(buf) {
			if strings.ContainsRune(p, 0) {
				t.Fatalf("path with a NUL: %q", p)
			}
		}
	})
}
