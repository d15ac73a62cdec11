package netns

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// CUPS is a real cupsd running in one host's namespace, with the PDF
// queue's driver (cups-pdf) at hand (scripts/cups.sh).
type CUPS struct {
	t  testing.TB
	ns string
}

// CUPSDir is where the cupsd of namespace ns keeps its state and socket.
func CUPSDir(ns string) string { return filepath.Join("/run/peerdesk-cups", ns) }

// StartCUPS starts cupsd in h's namespace and stops it (and removes its
// private state) when the test ends; h's processes started after it find
// it through CUPS_SERVER, as libcups would (the system socket belongs to
// the machine's own cupsd even inside the namespace). Under CI=true a
// missing cupsd fails the test; elsewhere it skips.
func StartCUPS(t testing.TB, h *Host) *CUPS {
	t.Helper()
	for _, tool := range []string{"cupsd", "lpadmin", "lpstat", "cupsdisable", "cupsreject"} {
		if _, err := exec.LookPath(tool); err != nil {
			skipOrFatal(t, "%s not installed (scripts/deps.sh installs cups, cups-client, printer-driver-cups-pdf)", tool)
		}
	}
	script := cupsScript(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, script, "start", h.NS).CombinedOutput(); err != nil {
		t.Fatalf("scripts/cups.sh start %s: %v\n%s", h.NS, err, out)
	}
	h.Env = append(h.Env, "CUPS_SERVER="+filepath.Join(CUPSDir(h.NS), "cups.sock"))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if out, err := exec.CommandContext(ctx, script, "stop", h.NS).CombinedOutput(); err != nil {
			t.Logf("scripts/cups.sh stop %s: %v\n%s", h.NS, err, out)
		}
		os.RemoveAll(CUPSDir(h.NS))
	})
	return &CUPS{t: t, ns: h.NS}
}

// cupsScript is scripts/cups.sh of this repository.
func cupsScript(t testing.TB) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("netns: cannot tell where scripts/cups.sh is")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "scripts", "cups.sh")
}

// Tool runs a CUPS client tool against the namespace's cupsd over its
// domain socket, where cupsd admits root by its peer credentials: CUPS
// 2.4.2-3+deb12u10 refuses root's lpadmin over localhost:631.
func (c *CUPS) Tool(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	argv := append([]string{"netns", "exec", c.ns, "env", "LANG=C",
		"CUPS_SERVER=" + filepath.Join(CUPSDir(c.ns), "cups.sock"), name}, args...)
	out, err := exec.CommandContext(ctx, "ip", argv...).CombinedOutput()
	return string(out), err
}

// Must is Tool that fails the test on an error.
func (c *CUPS) Must(name string, args ...string) string {
	c.t.Helper()
	out, err := c.Tool(name, args...)
	if err != nil {
		c.t.Fatalf("%s %s in %s: %v\n%s", name, strings.Join(args, " "), c.ns, err, out)
	}
	return out
}

// Queue adds a cups-pdf queue with the PDF queue's driver.
func (c *CUPS) Queue(name string) {
	c.t.Helper()
	c.Must("lpadmin", "-p", name, "-E", "-v", "cups-pdf:/", "-P", filepath.Join(CUPSDir(c.ns), "ppd", "PDF.ppd"))
}

// Jobs lists every job cupsd knows (completed ones too) as "QUEUE-ID USER".
func (c *CUPS) Jobs() []string {
	c.t.Helper()
	var out []string
	for _, line := range strings.Split(c.Must("lpstat", "-W", "all", "-o"), "\n") {
		if f := strings.Fields(line); len(f) >= 2 {
			out = append(out, f[0]+" "+f[1])
		}
	}
	return out
}

// String names the cupsd for messages.
func (c *CUPS) String() string { return fmt.Sprintf("cupsd of %s", c.ns) }
