package shares

import (
	"path"
	"strings"
	"unicode/utf8"
)

// Limits on share-relative paths.
const (
	// MaxPathBytes bounds a whole share-relative path.
	MaxPathBytes = 4096
	// MaxNameBytes bounds one path component (the common file-system limit).
	MaxNameBytes = 255
)

// tempPrefix and tempSuffix name partial uploads kept beside their target:
// ".peerdesk-<first 16 hex of sha256>.part".
const (
	tempPrefix = ".peerdesk-"
	tempSuffix = ".part"
)

// CleanPath checks a share-relative slash path as a remote peer sends it
// and returns it in canonical form ("" for the share's root, which "" and
// "." both name; one trailing slash is dropped). It refuses, with an error
// wrapping ErrBadPath, anything that could name a file outside the share or
// a file Windows cannot hold: ".." or "." components, empty components,
// absolute paths ("/x", "C:\x", "\\server\x"), backslashes, NUL and other
// control characters, invalid UTF-8, the reserved characters <>:"|?*,
// Windows device names (CON, PRN, AUX, NUL, COM0-9, LPT0-9, CONIN$,
// CONOUT$, with or without extension, any case), components ending in a
// dot or a space, components over MaxNameBytes and paths over
// MaxPathBytes.
//
// Percent-encodings such as "%2e%2e" are not decoded: they are literal
// names. CleanPath is the first gate only; every access then goes through
// os.Root, which also refuses symlinks that lead out of the share.
func CleanPath(p string) (string, error) {
	if p == "" || p == "." {
		return "", nil
	}
	if len(p) > MaxPathBytes {
		return "", badPath(p, "path too long")
	}
	if !utf8.ValidString(p) {
		return "", badPath(p, "not valid UTF-8")
	}
	for _, r := range p {
		switch {
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			return "", badPath(p, "control character")
		case r == '\\':
			return "", badPath(p, "backslash")
		case strings.ContainsRune(`<>:"|?*`, r):
			return "", badPath(p, "reserved character "+string(r))
		}
	}
	if p[0] == '/' {
		return "", badPath(p, "absolute path")
	}
	p = strings.TrimSuffix(p, "/")
	for comp := range strings.SplitSeq(p, "/") {
		if err := checkName(p, comp); err != nil {
			return "", err
		}
	}
	return p, nil
}

// checkName checks one component of full.
func checkName(full, name string) error {
	switch {
	case name == "":
		return badPath(full, "empty path component")
	case name == "..":
		return badPath(full, `".." component`)
	case name == ".":
		return badPath(full, `"." component`)
	case len(name) > MaxNameBytes:
		return badPath(full, "name longer than 255 bytes")
	case strings.HasSuffix(name, ".") || strings.HasSuffix(name, " "):
		return badPath(full, "name ends in a dot or space")
	case isDeviceName(name):
		return badPath(full, "reserved device name")
	}
	return nil
}

// isDeviceName reports whether Windows would take name for a device: the
// part before the first dot, trailing spaces removed, is a device name in
// any case.
func isDeviceName(name string) bool {
	base, _, _ := strings.Cut(name, ".")
	base = strings.TrimRight(base, " ")
	switch len(base) {
	case 3:
		switch strings.ToUpper(base) {
		case "CON", "PRN", "AUX", "NUL":
			return true
		}
	case 4, 5:
		// COM1..9, LPT1..9, and the superscript digits ¹²³ Windows also maps.
		up := strings.ToUpper(base)
		if strings.HasPrefix(up, "COM") || strings.HasPrefix(up, "LPT") {
			switch up[3:] {
			case "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³":
				return true
			}
		}
	case 6, 7:
		switch strings.ToUpper(base) {
		case "CONIN$", "CONOUT$":
			return true
		}
	}
	return false
}

// isHidden reports whether any component of a cleaned path is hidden (a
// dot file or folder).
func isHidden(clean string) bool {
	for comp := range strings.SplitSeq(clean, "/") {
		if strings.HasPrefix(comp, ".") {
			return true
		}
	}
	return false
}

// isTempName reports whether name is one of this program's partial
// uploads.
func isTempName(name string) bool {
	return strings.HasPrefix(name, tempPrefix) && strings.HasSuffix(name, tempSuffix)
}

// tempPath is the partial-upload name for a target with the given SHA-256
// (hex), beside the target.
func tempPath(target, sumHex string) string {
	return joinRel(parentRel(target), tempPrefix+sumHex[:16]+tempSuffix)
}

// parentRel is the folder holding a cleaned path ("" for the root).
func parentRel(clean string) string {
	d := path.Dir(clean)
	if d == "." {
		return ""
	}
	return d
}

// joinRel joins cleaned share-relative paths.
func joinRel(dir, name string) string {
	if dir == "" {
		return name
	}
	if name == "" {
		return dir
	}
	return dir + "/" + name
}

// rootName turns a cleaned share-relative path into a name for os.Root.
func rootName(clean string) string {
	if clean == "" {
		return "."
	}
	return clean
}
