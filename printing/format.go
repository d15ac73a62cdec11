package printing

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"
)

// Document formats peerdesk recognises, as MIME types.
const (
	FormatPDF        = "application/pdf"
	FormatPostScript = "application/postscript"
	FormatPNG        = "image/png"
	FormatJPEG       = "image/jpeg"
	FormatText       = "text/plain"
	FormatXPS        = "application/vnd.ms-xpsdocument"
	FormatOXPS       = "application/oxps"
	// FormatPWGRaster is IPP Everywhere's raster format, what driverless
	// clients send printers that do not take PDF.
	FormatPWGRaster = "image/pwg-raster"
	// FormatUnknown is what DetectFormat says about anything else. A queue
	// that lists it (CUPS: auto-typing) is only given documents DetectFormat
	// recognised.
	FormatUnknown = "application/octet-stream"
)

// DetectHeadSize is how much of a document DetectFormat needs to see.
const DetectHeadSize = 4096

// formatNames are the names people know the formats by, for messages.
var formatNames = map[string]string{
	FormatPDF:        "PDF",
	FormatPostScript: "PostScript",
	FormatPNG:        "PNG",
	FormatJPEG:       "JPEG",
	FormatText:       "plain text",
	FormatXPS:        "XPS",
	FormatOXPS:       "OpenXPS",
	FormatPWGRaster:  "PWG raster",
}

// DetectFormat names the format of a document from its first bytes (up to
// DetectHeadSize) by magic numbers: PDF, PostScript, PNG, JPEG, XPS/OpenXPS,
// or UTF-8 plain text. Anything else is FormatUnknown. name, the file name,
// only tells containers apart: a ZIP package is XPS when named .xps, OpenXPS
// when named .oxps; for everything else the content decides, so a renamed
// file cannot pass for another format.
func DetectFormat(head []byte, name string) string {
	if len(head) > DetectHeadSize {
		head = head[:DetectHeadSize]
	}
	switch {
	// PWG 5102.4: sync word "RaS2", then the header's "PwgRaster".
	case bytes.HasPrefix(head, []byte("RaS2PwgRaster\x00")):
		return FormatPWGRaster
	// CUPS's own rule (mime.types): "%PDF" after optional line breaks.
	case bytes.HasPrefix(bytes.TrimLeft(head, "\r\n"), []byte("%PDF-")):
		return FormatPDF
	// "%!" (DSC), "^D%!" (PostScript from DOS-era drivers), and the binary
	// header of DOS EPS files.
	case bytes.HasPrefix(head, []byte("%!")), bytes.HasPrefix(head, []byte("\x04%!")),
		bytes.HasPrefix(head, []byte{0xc5, 0xd0, 0xd3, 0xc6}):
		return FormatPostScript
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return FormatPNG
	case bytes.HasPrefix(head, []byte{0xff, 0xd8, 0xff}):
		return FormatJPEG
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		switch strings.ToLower(filepath.Ext(name)) {
		case ".xps":
			return FormatXPS
		case ".oxps":
			return FormatOXPS
		}
		return FormatUnknown
	case isPlainText(head):
		return FormatText
	}
	return FormatUnknown
}

// isPlainText reports whether head is printable UTF-8 text: valid UTF-8 (a
// rune cut off by the end of head is fine), no NUL, no control characters
// but tab, line feed, form feed and carriage return. ESC in particular marks
// a printer language (PCL, ESC/P) that must not be printed as text.
func isPlainText(head []byte) bool {
	if len(head) == 0 {
		return false
	}
	for i := 0; i < len(head); {
		r, size := utf8.DecodeRune(head[i:])
		if r == utf8.RuneError && size <= 1 {
			// An incomplete rune at the very end is the head's cut, not
			// invalid text.
			return len(head)-i < utf8.UTFMax && !utf8.FullRune(head[i:])
		}
		switch {
		case r == '\t', r == '\n', r == '\f', r == '\r':
		case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
			return false
		}
		i += size
	}
	return true
}

// isKnownFormat reports whether DetectFormat can name format.
func isKnownFormat(format string) bool {
	_, ok := formatNames[format]
	return ok
}

// chooseFormat picks the document-format to send for a document of format
// (detected, or declared by the caller) to a queue taking supported. A queue
// that lists FormatUnknown (CUPS auto-typing) gets FormatUnknown only for
// content peerdesk recognised, so unknown bytes never reach a printer.
func chooseFormat(queue, format string, supported []string) (string, error) {
	if format == FormatUnknown {
		return "", fmt.Errorf("printer %s: the document is not PDF, PostScript, PNG, JPEG, PWG raster or UTF-8 text; the printer takes %s: %w",
			queue, describeFormats(supported), ErrUnsupportedFormat)
	}
	if slices.Contains(supported, format) {
		return format, nil
	}
	if isKnownFormat(format) && slices.Contains(supported, FormatUnknown) {
		return FormatUnknown, nil
	}
	return "", fmt.Errorf("printer %s does not take %s; it takes %s: %w",
		queue, describeFormat(format), describeFormats(supported), ErrUnsupportedFormat)
}

func describeFormat(format string) string {
	if name, ok := formatNames[format]; ok {
		return name
	}
	return format
}

// describeFormats lists, for people, the formats a queue takes: the familiar
// ones by name, the rest counted (a CUPS queue lists thirty-odd MIME types).
func describeFormats(supported []string) string {
	var named []string
	other := 0
	for _, f := range supported {
		if name, ok := formatNames[f]; ok {
			named = append(named, name)
		} else if f != FormatUnknown {
			other++
		}
	}
	slices.Sort(named)
	named = slices.Compact(named)
	switch {
	case len(named) == 0 && other == 0:
		return "no document format peerdesk can send"
	case len(named) == 0:
		return fmt.Sprintf("only formats peerdesk does not send (%s)", strings.Join(supported, ", "))
	case other > 0:
		return fmt.Sprintf("%s (and %d other types)", strings.Join(named, ", "), other)
	}
	return strings.Join(named, ", ")
}

// readHead reads the first DetectHeadSize bytes of r for DetectFormat and
// returns them with a reader that yields the whole document again.
func readHead(r io.Reader) (head []byte, whole io.Reader, err error) {
	head = make([]byte, DetectHeadSize)
	n, err := io.ReadFull(r, head)
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		// A document shorter than the head is still a document.
	case err != nil:
		return nil, nil, fmt.Errorf("read document: %w", err)
	}
	head = head[:n]
	return head, io.MultiReader(bytes.NewReader(head), r), nil
}

// documentFormat reads the head of req's document and settles the format to
// send to a queue taking supported (see chooseFormat). It refuses an empty
// document.
func documentFormat(req *SubmitRequest, supported []string) (format string, whole io.Reader, headLen int, err error) {
	head, whole, err := readHead(req.Document)
	if err != nil {
		return "", nil, 0, err
	}
	if len(head) == 0 {
		return "", nil, 0, fmt.Errorf("printer %s: the document is empty: %w", req.Queue, ErrUnsupportedFormat)
	}
	format = req.Format
	if format == "" {
		name := req.FileName
		if name == "" {
			name = req.JobName
		}
		format = DetectFormat(head, name)
	}
	format, err = chooseFormat(req.Queue, format, supported)
	if err != nil {
		return "", nil, 0, err
	}
	return format, whole, len(head), nil
}
