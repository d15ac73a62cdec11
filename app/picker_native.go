package app

import (
	"strings"
	"unicode/utf16"
)

// The Windows and macOS file choosers are the systems' own: the common
// Open dialog (comdlg32) on Windows and the Finder's panel through
// AppleScript on macOS (portal_windows.go, portal_darwin.go). What they
// are asked and what they answer is built and read here, on every
// platform, so that it is tested where the tests run.

// appleScriptChooser is the AppleScript that asks the Finder's panel for
// what p wants and prints the POSIX paths chosen, one per line.
func appleScriptChooser(p pickRequest) string {
	prompt := appleScriptString(p.title)
	var b strings.Builder
	b.WriteString("set out to \"\"\n")
	switch {
	case p.folder:
		b.WriteString("set picked to {choose folder with prompt " + prompt + "}\n")
	case p.multiple:
		b.WriteString("set picked to choose file with prompt " + prompt + " with multiple selections allowed\n")
	default:
		b.WriteString("set picked to {choose file with prompt " + prompt + "}\n")
	}
	b.WriteString("repeat with f in picked\n")
	b.WriteString("set out to out & POSIX path of f & linefeed\n")
	b.WriteString("end repeat\n")
	b.WriteString("return out\n")
	return b.String()
}

// appleScriptString quotes s as an AppleScript string literal.
func appleScriptString(s string) string {
	s = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", " ", "\r", " ").Replace(s)
	return `"` + s + `"`
}

// appleScriptPaths reads the chooser script's output: one path a line. A
// folder's path ends in "/", which is dropped.
func appleScriptPaths(out string) []string {
	var paths []string
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			continue
		}
		if len(line) > 1 {
			line = strings.TrimSuffix(line, "/")
		}
		paths = append(paths, line)
	}
	return paths
}

// appleScriptCanceled tells osascript's error for a canceled chooser
// ("execution error: User canceled. (-128)").
func appleScriptCanceled(stderr string) bool {
	return strings.Contains(stderr, "(-128)")
}

// windowsChosenFiles reads the buffer the common Open dialog fills with
// OFN_ALLOWMULTISELECT|OFN_EXPLORER: one full path, or the folder then
// each name, every one ended by a NUL and the list by a second NUL.
func windowsChosenFiles(buf []uint16) []string {
	var parts []string
	start := 0
	for i, c := range buf {
		if c != 0 {
			continue
		}
		if i == start {
			break // the second NUL: the end of the list
		}
		parts = append(parts, string(utf16.Decode(buf[start:i])))
		start = i + 1
	}
	switch len(parts) {
	case 0:
		return nil
	case 1:
		return parts
	}
	dir := strings.TrimRight(parts[0], `\`)
	paths := make([]string, 0, len(parts)-1)
	for _, name := range parts[1:] {
		paths = append(paths, dir+`\`+name)
	}
	return paths
}
