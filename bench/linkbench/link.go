//go:build unix

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// nsPrefix starts the names of the namespaces linkbench makes; the pid of
// the making process follows, so leftovers of a killed run are recognised
// (their pid is dead) and removed by the next run.
const nsPrefix = "pdlb-"

var leftoverRE = regexp.MustCompile(`^` + nsPrefix + `([0-9]+)-[ab]$`)

// link is two network namespaces joined by a veth pair: a (the server,
// 10.99.0.1) and b (the client, 10.99.0.2). Nothing outside the two
// namespaces is touched.
type link struct {
	a, b       string
	ifA, ifB   string
	addrA      string
	addrB      string
	rate       string
	lossActive bool
}

// shapeSpec is the shaped link of docs/performance.md.
const (
	linkMTU   = 1500
	tbfBurst  = "256kb"
	tbfLatent = "5ms"
)

func newLink(rate string) (*link, error) {
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("the shaped link needs root (network namespaces, tc, nft)")
	}
	for _, tool := range []string{"ip", "tc", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("the shaped link needs %s: %w", tool, err)
		}
	}
	removeLeftovers()
	id := nsPrefix + strconv.Itoa(os.Getpid())
	l := &link{a: id + "-a", b: id + "-b", ifA: "veth0", ifB: "veth1", addrA: "10.99.0.1", addrB: "10.99.0.2", rate: rate}
	steps := [][]string{
		{"ip", "netns", "add", l.a},
		{"ip", "netns", "add", l.b},
		// Made inside a with its peer inside b: the machine's own
		// namespace never sees the pair.
		{"ip", "-n", l.a, "link", "add", l.ifA, "mtu", strconv.Itoa(linkMTU), "type", "veth", "peer", "name", l.ifB, "mtu", strconv.Itoa(linkMTU), "netns", l.b},
		{"ip", "-n", l.a, "addr", "add", l.addrA + "/24", "dev", l.ifA},
		{"ip", "-n", l.b, "addr", "add", l.addrB + "/24", "dev", l.ifB},
		{"ip", "-n", l.a, "link", "set", "lo", "up"},
		{"ip", "-n", l.b, "link", "set", "lo", "up"},
		{"ip", "-n", l.a, "link", "set", l.ifA, "up"},
		{"ip", "-n", l.b, "link", "set", l.ifB, "up"},
		{"ip", "netns", "exec", l.a, "tc", "qdisc", "add", "dev", l.ifA, "root", "tbf", "rate", rate, "burst", tbfBurst, "latency", tbfLatent},
		{"ip", "netns", "exec", l.b, "tc", "qdisc", "add", "dev", l.ifB, "root", "tbf", "rate", rate, "burst", tbfBurst, "latency", tbfLatent},
	}
	for _, s := range steps {
		if err := run(nil, s...); err != nil {
			l.close()
			return nil, err
		}
	}
	return l, nil
}

// unshape removes the tbf shapers: the veth pair at what the CPUs move.
func (l *link) unshape() error {
	for _, side := range [][2]string{{l.a, l.ifA}, {l.b, l.ifB}} {
		if err := run(nil, "ip", "netns", "exec", side[0], "tc", "qdisc", "del", "dev", side[1], "root"); err != nil {
			return err
		}
	}
	return nil
}

// setLoss drops permille of the packets arriving in each namespace (so
// that much each way) with an nftables rule; 0 removes the rule.
func (l *link) setLoss(permille int) error {
	for _, ns := range []string{l.a, l.b} {
		if l.lossActive {
			if err := run(nil, "ip", "netns", "exec", ns, "nft", "delete", "table", "inet", "pdlb"); err != nil {
				return err
			}
		}
		if permille > 0 {
			rules := fmt.Sprintf(`table inet pdlb {
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		numgen random mod 1000 < %d drop
	}
}
`, permille)
			if err := run([]byte(rules), "ip", "netns", "exec", ns, "nft", "-f", "-"); err != nil {
				return err
			}
		}
	}
	l.lossActive = permille > 0
	return nil
}

func (l *link) close() {
	for _, ns := range []string{l.a, l.b} {
		killNamespace(ns)
		_ = run(nil, "ip", "netns", "del", ns)
	}
}

// killNamespace kills what still runs in ns (a role that did not exit).
func killNamespace(ns string) {
	out, err := exec.Command("ip", "netns", "pids", ns).Output()
	if err != nil {
		return
	}
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func removeLeftovers() {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		m := leftoverRE.FindStringSubmatch(f[0])
		if m == nil {
			continue
		}
		pid, _ := strconv.Atoi(m[1])
		if pid == os.Getpid() || syscall.Kill(pid, 0) == nil {
			continue // alive: another run's
		}
		killNamespace(f[0])
		_ = run(nil, "ip", "netns", "del", f[0])
	}
}

func run(stdin []byte, args ...string) error {
	cmd := exec.Command(args[0], args[1:]...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", strings.Join(args, " "), err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
		}
		return nil
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		return fmt.Errorf("%s: timed out", strings.Join(args, " "))
	}
}
