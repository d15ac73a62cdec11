package integration

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peerdesk/peerdesk/test/netns"
)

// CUPS' IPP Everywhere conformance suite (ipptool's ipp-everywhere.test,
// which includes ipp-2.0.test and ipp-1.1.test) run against an endpoint.
// cups-ipp-utils ships the tests but not the sample documents they send:
// the PDFs, PostScript and JPEGs are made here from a one-page PDF with
// ghostscript, and so are the PWG raster samples at 150 and 300 dpi. The
// suite names every sample file, and ipptool stops a file at the first one
// missing even when its test is skipped, so samples at resolutions no
// printer here offers (180, 360, 600, 720 dpi) are placeholders: a test
// that sent one would fail, not pass.

// suiteResult is one test of an ipptool -t report.
type suiteResult struct {
	Name    string
	Verdict string // PASS, FAIL, SKIP
	Reasons []string
}

var suiteLine = regexp.MustCompile(`^ {4}(\S.*?)\s+\[(PASS|FAIL|SKIP)\]$`)

// parseSuite reads ipptool -t output.
func parseSuite(out string) []suiteResult {
	var rs []suiteResult
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if m := suiteLine.FindStringSubmatch(line); m != nil {
			rs = append(rs, suiteResult{Name: m[1], Verdict: m[2]})
			continue
		}
		if len(rs) > 0 && rs[len(rs)-1].Verdict == "FAIL" && strings.HasPrefix(strings.TrimSpace(line), "EXPECTED:") {
			rs[len(rs)-1].Reasons = append(rs[len(rs)-1].Reasons, strings.TrimSpace(line))
		}
	}
	return rs
}

func suiteFailed(rs []suiteResult) (ran int, failed []string) {
	for _, r := range rs {
		if r.Verdict != "SKIP" {
			ran++
		}
		if r.Verdict == "FAIL" {
			failed = append(failed, r.Name+" "+strings.Join(r.Reasons, "; "))
		}
	}
	return ran, failed
}

var (
	suiteOnce sync.Once
	suiteDir  string
	suiteErr  error
)

// ippSuite prepares the suite and its samples once per test binary.
func ippSuite(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"ipptool", "gs"} {
		if _, err := exec.LookPath(tool); err != nil {
			msg := tool + " not installed (scripts/deps.sh installs cups-ipp-utils and ghostscript)"
			if os.Getenv("CI") == "true" {
				t.Fatal("CI needs it: " + msg)
			}
			t.Skip(msg)
		}
	}
	suiteOnce.Do(func() { suiteDir, suiteErr = prepareSuite() })
	if suiteErr != nil {
		t.Fatal(suiteErr)
	}
	return suiteDir
}

func prepareSuite() (string, error) {
	dir, err := os.MkdirTemp("", "pdt-ippsuite-")
	if err != nil {
		return "", err
	}
	tests, _ := filepath.Glob("/usr/share/cups/ipptool/*.test")
	if len(tests) == 0 {
		return "", fmt.Errorf("no ipptool tests in /usr/share/cups/ipptool (cups-ipp-utils)")
	}
	for _, f := range tests {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			return "", err
		}
	}
	src, err := filepath.Abs(filepath.Join("..", "..", "printing", "testdata", "onepage.pdf"))
	if err != nil {
		return "", err
	}
	pdf, err := os.ReadFile(src)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	gs := func(out string, args ...string) error {
		argv := append([]string{"-q", "-dBATCH", "-dNOPAUSE", "-dSAFER", "-sOutputFile=" + out}, args...)
		argv = append(argv, src)
		if b, err := exec.CommandContext(ctx, "gs", argv...).CombinedOutput(); err != nil {
			return fmt.Errorf("gs %s: %v: %s", filepath.Base(out), err, b)
		}
		return nil
	}
	for _, name := range []string{"document-a4.pdf", "document-letter.pdf"} {
		if err := os.WriteFile(filepath.Join(dir, name), pdf, 0o644); err != nil {
			return "", err
		}
	}
	jobs := []func() error{
		func() error { return gs(filepath.Join(dir, "document-a4.ps"), "-sDEVICE=ps2write") },
		func() error { return gs(filepath.Join(dir, "document-letter.ps"), "-sDEVICE=ps2write") },
		func() error { return gs(filepath.Join(dir, "color.jpg"), "-sDEVICE=jpeg", "-r72") },
		func() error { return gs(filepath.Join(dir, "gray.jpg"), "-sDEVICE=jpeggray", "-r72") },
	}
	// Every sample the suite names: pwg-raster-samples-RES/TYPE/DOC-TYPE-RES.pwg.
	b, err := os.ReadFile(filepath.Join(dir, "ipp-everywhere.test"))
	if err != nil {
		return "", err
	}
	sample := regexp.MustCompile(`(?m)^\s*FILE (pwg-raster-samples-(\d+)dpi/([a-z0-9-]+)/(\S+)\.pwg)$`)
	seen := map[string]bool{}
	space := map[string][]string{"black-1": {"3", "1"}, "sgray-8": {"18", "8"}, "srgb-8": {"19", "8"}, "srgb-16": {"19", "16"}, "cmyk-8": {"6", "8"}}
	for _, m := range sample.FindAllStringSubmatch(string(b), -1) {
		rel, res, typ := m[1], m[2], m[3]
		if seen[rel] {
			continue
		}
		seen[rel] = true
		out := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return "", err
		}
		cs, ok := space[typ]
		if !ok || (res != "150" && res != "300") {
			if err := os.WriteFile(out, []byte("placeholder: no printer under test offers this resolution\n"), 0o644); err != nil {
				return "", err
			}
			continue
		}
		jobs = append(jobs, func() error {
			return gs(out, "-sDEVICE=pwgraster", "-r"+res, "-dcupsColorSpace="+cs[0], "-dcupsBitsPerColor="+cs[1])
		})
	}
	errs := make(chan error, len(jobs))
	sem := make(chan struct{}, 8)
	for _, job := range jobs {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			errs <- job()
		}()
	}
	for range jobs {
		if err := <-errs; err != nil {
			return "", err
		}
	}
	return dir, nil
}

// runSuite runs ipp-everywhere.test against uri from inside h's namespace
// (the endpoint listens on that namespace's loopback).
func runSuite(t *testing.T, ns, uri string) []suiteResult {
	t.Helper()
	dir := ippSuite(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, "ipptool", "-tI", "-f", filepath.Join(dir, "document-letter.pdf"), uri, "ipp-everywhere.test")
	cmd.Dir = dir
	out, _ := cmd.CombinedOutput() // ipptool exits 1 when a test fails
	rs := parseSuite(string(out))
	if len(rs) < 20 {
		t.Fatalf("ipptool ran %d tests against %s:\n%s", len(rs), uri, out)
	}
	return rs
}

// startReferencePrinter runs CUPS' reference IPP Everywhere printer,
// ippeveprinter, on h's loopback (with the avahi stub: it registers
// nothing) and returns its URI.
func startReferencePrinter(t *testing.T, ns string, port int) string {
	t.Helper()
	for _, tool := range []string{"ippeveprinter", "gcc"} {
		if _, err := exec.LookPath(tool); err != nil {
			msg := tool + " not installed (scripts/deps.sh installs cups-ipp-utils and gcc)"
			if os.Getenv("CI") == "true" {
				t.Fatal("CI needs it: " + msg)
			}
			t.Skip(msg)
		}
	}
	dir := t.TempDir()
	stub := filepath.Join(dir, "avahi_stub.so")
	if out, err := exec.Command("gcc", "-shared", "-fPIC", "-o", stub, filepath.Join("testdata", "avahi_stub.c")).CombinedOutput(); err != nil {
		t.Fatalf("build avahi stub: %v: %s", err, out)
	}
	spool := filepath.Join(dir, "spool")
	if err := os.MkdirAll(spool, 0o700); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, "env", "LD_PRELOAD="+stub,
		"ippeveprinter", "-p", fmt.Sprint(port), "-d", spool, "-f", "application/pdf,image/jpeg,image/pwg-raster", "eve")
	log, _ := os.Create(filepath.Join(dir, "ippeveprinter.log"))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		log.Close()
	})
	uri := fmt.Sprintf("ipp://localhost:%d/ipp/print", port)
	waitUntil(t, 15*time.Second, func() (bool, string) {
		out, err := exec.Command("ip", "netns", "exec", ns, "ipptool", "-t", uri, "get-printer-attributes.test").CombinedOutput()
		return err == nil, string(out)
	})
	return uri
}

// referenceFailures are the tests CUPS' reference printer, ippeveprinter
// (cups-ipp-utils 2.4.2), fails in this suite, with the expectations it
// fails them on, as the issue records them: Create-Job while busy ×3 and
// overrides-supported in PWG 5100.14. Run live against ippeveprinter here
// it fails more (it answers server-error-busy while it "prints" the raster
// samples) and takes over ten minutes, so the endpoint is held to the
// recorded list.
var referenceFailures = map[string]string{
	"RFC 8011 section 4.2.4: Create-Job Operation":                     "busy",
	"Send-Document missing last-document: Create-Job Operation":        "busy",
	"Send-URI with bad URI: Create-Job Operation":                      "busy",
	"PWG 5100.14 section 5.1/5.2 - Required Operations and Attributes": "overrides-supported",
}

// checkEndpointConformance runs the suite against Peerdesk's endpoint: it
// may fail only what ippeveprinter fails, for the same reason.
func checkEndpointConformance(t *testing.T, h *netns.Host, uri string) {
	t.Helper()
	ours := runSuite(t, h.NS, uri)
	ran, failed := suiteFailed(ours)
	t.Logf("MEASURED ipptool ipp-everywhere.test against the endpoint: %d ran, %d failed: %v", ran, len(failed), failed)
	for _, r := range ours {
		if r.Verdict != "FAIL" {
			continue
		}
		why, ok := referenceFailures[r.Name]
		if !ok {
			t.Errorf("the endpoint fails %q, which ippeveprinter passes: %v", r.Name, r.Reasons)
			continue
		}
		for _, got := range r.Reasons {
			if !strings.Contains(got, why) {
				t.Errorf("the endpoint fails %q for %s", r.Name, got)
			}
		}
	}
	if ran < 40 {
		t.Errorf("only %d tests ran against the endpoint", ran)
	}
}
