package printing

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDetectFormat(t *testing.T) {
	pdf, err := os.ReadFile(filepath.Join("testdata", "onepage.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		head []byte
		file string
		want string
	}{
		{"pdf fixture", pdf, "onepage.pdf", FormatPDF},
		{"pdf after line breaks", []byte("\r\n\n%PDF-1.7\n"), "", FormatPDF},
		{"pdf named txt", []byte("%PDF-1.4\n"), "notes.txt", FormatPDF},
		{"not pdf: text mentioning it", []byte("see %PDF-1.4 below\n"), "", FormatText},
		{"postscript", []byte("%!PS-Adobe-3.0\n%%Pages: 1\n"), "", FormatPostScript},
		{"postscript with ctrl-d", []byte("\x04%!PS\n"), "", FormatPostScript},
		{"dos eps", []byte{0xc5, 0xd0, 0xd3, 0xc6, 0x20, 0, 0, 0}, "", FormatPostScript},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "", FormatPNG},
		{"jpeg", []byte{0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'J', 'F', 'I', 'F'}, "", FormatJPEG},
		{"text", []byte("Hello, printer.\n\tTabbed line\r\n\fnew page\n"), "", FormatText},
		{"utf-8 text", []byte("Grüße aus dem Büro — ¥€ 日本語\n"), "", FormatText},
		{"utf-8 bom", []byte("\xef\xbb\xbfbom text\n"), "", FormatText},
		{"text cut inside a rune", []byte("caf\xc3"), "", FormatText},
		{"latin-1 is not utf-8", []byte("caf\xe9 cr\xe8me\n"), "", FormatUnknown},
		{"nul", []byte("abc\x00def"), "", FormatUnknown},
		{"pcl escape", []byte("\x1bE\x1b&l0O text"), "", FormatUnknown},
		{"c1 control", []byte("a\u0085b"), "", FormatUnknown},
		{"zip", []byte("PK\x03\x04\x14\x00\x00\x00"), "report.zip", FormatUnknown},
		{"zip named xps", []byte("PK\x03\x04\x14\x00\x00\x00"), "doc.XPS", FormatXPS},
		{"zip named oxps", []byte("PK\x03\x04\x14\x00\x00\x00"), "doc.oxps", FormatOXPS},
		{"xps name without zip", []byte("hello"), "doc.xps", FormatText},
		{"elf", []byte("\x7fELF\x02\x01\x01"), "", FormatUnknown},
		{"empty", nil, "a.pdf", FormatUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DetectFormat(tt.head, tt.file); got != tt.want {
				t.Errorf("DetectFormat(%q, %q) = %s, want %s", tt.head[:min(len(tt.head), 16)], tt.file, got, tt.want)
			}
		})
	}
}

func TestDetectFormatLooksOnlyAtTheHead(t *testing.T) {
	long := append(bytes.Repeat([]byte("a"), DetectHeadSize), 0)
	if got := DetectFormat(long, ""); got != FormatText {
		t.Errorf("a NUL past DetectHeadSize changed the verdict: %s", got)
	}
}

func FuzzDetectFormat(f *testing.F) {
	if pdf, err := os.ReadFile(filepath.Join("testdata", "onepage.pdf")); err == nil {
		f.Add(pdf, "onepage.pdf")
	}
	for _, seed := range []string{"%!PS", "\x89PNG\r\n\x1a\n", "\xff\xd8\xff", "PK\x03\x04", "text\n", "caf\xc3", "\x1bE", ""} {
		f.Add([]byte(seed), "x.xps")
	}
	known := []string{FormatPDF, FormatPostScript, FormatPNG, FormatJPEG, FormatText, FormatXPS, FormatOXPS, FormatUnknown}
	f.Fuzz(func(t *testing.T, head []byte, name string) {
		got := DetectFormat(head, name)
		if !slices.Contains(known, got) {
			t.Fatalf("DetectFormat returned %q", got)
		}
		if again := DetectFormat(head, name); again != got {
			t.Fatalf("not deterministic: %s then %s", got, again)
		}
		if got == FormatText {
			h := head[:min(len(head), DetectHeadSize)]
			// Valid UTF-8 but for a rune cut off by the end of the head.
			for i := 0; i < utf8.UTFMax && !utf8.Valid(h); i++ {
				h = h[:len(h)-1]
			}
			if !utf8.Valid(h) || bytes.ContainsAny(h, "\x00\x1b") {
				t.Fatalf("%q called text", head)
			}
		}
		if (got == FormatXPS || got == FormatOXPS) && !bytes.HasPrefix(head, []byte("PK\x03\x04")) {
			t.Fatalf("%q called %s without a ZIP header", head, got)
		}
	})
}

func TestChooseFormat(t *testing.T) {
	cupsPDF := []string{FormatUnknown, FormatPDF, FormatPostScript, "image/pwg-raster", FormatPNG, FormatJPEG, FormatText}
	pdfOnly := []string{FormatPDF}
	tests := []struct {
		name      string
		format    string
		supported []string
		want      string
		wantErr   bool
	}{
		{"listed", FormatPDF, cupsPDF, FormatPDF, false},
		{"not listed, auto-typing queue", FormatXPS, cupsPDF, FormatUnknown, false},
		{"not listed, no auto-typing", FormatPNG, pdfOnly, "", true},
		{"unknown content never goes as octet-stream", FormatUnknown, cupsPDF, "", true},
		{"declared foreign format listed", "image/pwg-raster", cupsPDF, "image/pwg-raster", false},
		{"declared foreign format, only auto-typing", "application/zip", []string{FormatUnknown}, "", true},
		{"queue lists nothing", FormatPDF, nil, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := chooseFormat("Q", tt.format, tt.supported)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Fatalf("chooseFormat(%s) = %q, %v; want %q, error %v", tt.format, got, err, tt.want, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrUnsupportedFormat) {
				t.Errorf("error %v is not ErrUnsupportedFormat", err)
			}
		})
	}
}

func TestDescribeFormats(t *testing.T) {
	tests := []struct {
		supported []string
		want      string
	}{
		{[]string{FormatUnknown, FormatPDF, "image/urf", FormatText, FormatPDF}, "PDF, plain text (and 1 other types)"},
		{[]string{FormatPostScript}, "PostScript"},
		{[]string{"application/vnd.cups-raster"}, "only formats peerdesk does not send (application/vnd.cups-raster)"},
		{nil, "no document format peerdesk can send"},
	}
	for _, tt := range tests {
		if got := describeFormats(tt.supported); got != tt.want {
			t.Errorf("describeFormats(%v) = %q, want %q", tt.supported, got, tt.want)
		}
	}
}

func TestDocumentFormat(t *testing.T) {
	supported := []string{FormatPDF, FormatText}
	body := "%PDF-1.4\n" + strings.Repeat("x", 3*DetectHeadSize)
	req := SubmitRequest{Queue: "Q", Document: strings.NewReader(body)}
	format, whole, headLen, err := documentFormat(&req, supported)
	if err != nil || format != FormatPDF || headLen != DetectHeadSize {
		t.Fatalf("documentFormat = %s, %d, %v", format, headLen, err)
	}
	if b, _ := io.ReadAll(whole); string(b) != body {
		t.Errorf("the document came back with %d of %d bytes", len(b), len(body))
	}

	req = SubmitRequest{Queue: "Q", Document: strings.NewReader("")}
	if _, _, _, err := documentFormat(&req, supported); !errors.Is(err, ErrUnsupportedFormat) {
		t.Errorf("empty document: %v; want ErrUnsupportedFormat", err)
	}
	// A declared format is checked against the queue too.
	req = SubmitRequest{Queue: "Q", Format: FormatPNG, Document: strings.NewReader("\x89PNG\r\n\x1a\n")}
	if _, _, _, err := documentFormat(&req, supported); !errors.Is(err, ErrUnsupportedFormat) {
		t.Errorf("declared PNG on a PDF/text queue: %v; want ErrUnsupportedFormat", err)
	}
}
