package netns

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the probe that sends and receives UDP inside
// the namespaces: started as `netns.test netns-probe ...` it runs
// probeMain instead of the tests, so no tool beyond iproute2 is needed.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == probeArg {
		os.Exit(probeMain(os.Args[2:]))
	}
	os.Exit(m.Run())
}

func probeBin(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

const mdnsV4 = "224.0.0.251:5353"

// received reports whether a datagram sent from host `from` to addr
// (multicast or unicast, listened to by host `to`) arrives within wait;
// diag has both sides' logs.
func received(t *testing.T, b *Bed, from, to int, addr string, wait time.Duration) (ok bool, diag string) {
	t.Helper()
	token := "probe-" + randomHex(4)
	rx := b.Host(to).Start(t, probeBin(t), probeArg, "recv", "-addr", addr, "-iface", HostIface,
		"-want", token, "-timeout", wait.String())
	WaitFor(t, 5*time.Second, 10*time.Millisecond, func() (bool, string) {
		return strings.Contains(rx.Log(), "listening"), "receiver log: " + rx.Log()
	})
	// Sent until the receiver is done, so that a slow receiver cannot turn
	// into a false "not received", and no longer, so a hit returns at once.
	count := int(wait/(50*time.Millisecond)) + 1
	tx := b.Host(from).Start(t, probeBin(t), probeArg, "send", "-addr", addr, "-iface", HostIface,
		"-msg", token, "-count", strconv.Itoa(count), "-interval", "50ms")
	code, err := rx.Wait(wait + 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	tx.Kill()
	diag = fmt.Sprintf("h%d -> %s on h%d; receiver: %q, sender: %q", from, addr, to, rx.Log(), tx.Log())
	return code == 0, diag
}

// reachable reports whether host `from` reaches addr by unicast: ping when
// installed, else a UDP datagram through the probe.
func reachable(t *testing.T, b *Bed, from, to int, addr netip.Addr) bool {
	t.Helper()
	if _, err := exec.LookPath("ping"); err == nil {
		_, _, code := b.Host(from).Run(t, "ping", "-c1", "-W1", addr.String())
		return code == 0
	}
	ok, _ := received(t, b, from, to, netip.AddrPortFrom(addr, 9999).String(), time.Second)
	return ok
}

func TestHostsReachEachOther(t *testing.T) {
	b := New(t, 3)
	for _, h := range b.Hosts {
		out, _, code := h.Run(t, "ip", "-o", "-4", "addr", "show", "dev", h.Iface)
		if code != 0 || !strings.Contains(out, h.IP.String()+"/24") {
			t.Fatalf("%s: want %s on %s, got %q (exit %d)", h.Name, h.IP, h.Iface, out, code)
		}
		if !b.Subnet.Contains(h.IP) {
			t.Errorf("%s: %s outside %s", h.Name, h.IP, b.Subnet)
		}
	}
	for i := range b.Hosts {
		for j := range b.Hosts {
			if i != j && !reachable(t, b, i, j, b.Host(j).IP) {
				t.Errorf("h%d cannot reach h%d (%s)", i, j, b.Host(j).IP)
			}
		}
	}
}

func TestMulticastAndDropMulticast(t *testing.T) {
	tools := []string{"nft", "iptables"}
	for _, tool := range tools {
		t.Run(tool, func(t *testing.T) {
			if _, err := exec.LookPath(tool); err != nil {
				skipOrFatal(t, "%s not installed", tool)
			}
			b := New(t, 3)
			if ok, diag := received(t, b, 0, 1, mdnsV4, 3*time.Second); !ok {
				t.Fatalf("mDNS datagram not received: %s", diag)
			}
			b.dropMulticast(t, 1, tool)
			if ok, diag := received(t, b, 0, 1, mdnsV4, 1500*time.Millisecond); ok {
				t.Errorf("multicast received after DropMulticast(1): %s", diag)
			}
			if ok, diag := received(t, b, 1, 2, mdnsV4, 1500*time.Millisecond); ok {
				t.Errorf("multicast sent after DropMulticast(1): %s", diag)
			}
			if ok, diag := received(t, b, 0, 2, mdnsV4, 3*time.Second); !ok {
				t.Errorf("DropMulticast(1) must not touch other hosts: %s", diag)
			}
			if !reachable(t, b, 0, 1, b.Host(1).IP) || !reachable(t, b, 1, 0, b.Host(0).IP) {
				t.Errorf("unicast between h0 and h1 broken by DropMulticast(1)")
			}
		})
	}
}

func TestIPv6(t *testing.T) {
	if !ipv6Enabled() {
		t.Skip("kernel without IPv6")
	}
	b := New(t, 2, WithIPv6())
	h0, h1 := b.Host(0), b.Host(1)
	if !h1.IP6.IsValid() || !b.Subnet6.Contains(h1.IP6) {
		t.Fatalf("h1.IP6 = %v, want an address in %v", h1.IP6, b.Subnet6)
	}
	if !reachable(t, b, 0, 1, h1.IP6) {
		t.Fatalf("h0 cannot reach h1 at %s", h1.IP6)
	}
	const mdnsV6 = "[ff02::fb]:5353"
	if ok, diag := received(t, b, 0, 1, mdnsV6, 3*time.Second); !ok {
		t.Fatalf("IPv6 mDNS datagram not received: %s", diag)
	}
	b.DropMulticast(t, 1)
	if ok, diag := received(t, b, 0, 1, mdnsV6, 1500*time.Millisecond); ok {
		t.Errorf("IPv6 multicast received after DropMulticast(1): %s", diag)
	}
	// Neighbour discovery is multicast too; unicast must survive the drop.
	if !reachable(t, b, 1, 0, h0.IP6) {
		t.Errorf("IPv6 unicast h1 -> h0 broken by DropMulticast(1)")
	}
}

func TestUnplugPlug(t *testing.T) {
	b := New(t, 2)
	ip1 := b.Host(1).IP
	if !reachable(t, b, 0, 1, ip1) {
		t.Fatal("h0 cannot reach h1")
	}
	b.Unplug(t, 1)
	if reachable(t, b, 0, 1, ip1) {
		t.Fatal("h0 reaches h1 while it is unplugged")
	}
	b.Plug(t, 1)
	WaitFor(t, 5*time.Second, 100*time.Millisecond, func() (bool, string) {
		return reachable(t, b, 0, 1, ip1), "h1 unreachable after Plug"
	})
}

func TestRun(t *testing.T) {
	b := New(t, 1)
	h := b.Host(0)
	out, errOut, code := h.Run(t, "sh", "-c", "echo out; echo err >&2; exit 3")
	if out != "out\n" || errOut != "err\n" || code != 3 {
		t.Errorf("Run = %q, %q, %d; want \"out\\n\", \"err\\n\", 3", out, errOut, code)
	}
	out, _, _ = h.Run(t, "sh", "-c", `echo "$HOME|$PEERDESK_HOME|$PWD"`)
	if want := h.Home + "|" + h.Home + "|" + h.Home + "\n"; out != want {
		t.Errorf("environment = %q, want %q", out, want)
	}
	h.Env = append(h.Env, "PDT_A=host")
	out, _, _ = h.RunWith(t, RunOptions{Env: []string{"PDT_B=run"}, Stdin: strings.NewReader("input")},
		"sh", "-c", `echo "$PDT_A $PDT_B $(cat)"`)
	if out != "host run input\n" {
		t.Errorf("RunWith env/stdin = %q", out)
	}
	// The command runs in the host's namespace, not the test's.
	out, _, _ = h.Run(t, "ip", "-o", "link", "show")
	if !strings.Contains(out, " "+HostIface+"@") || strings.Count(out, "\n") != 2 {
		t.Errorf("links inside %s:\n%s", h.NS, out)
	}
}

func TestStartSignalWait(t *testing.T) {
	b := New(t, 1)
	h := b.Host(0)

	p := h.Start(t, "sh", "-c", "echo started; exec sleep 30")
	WaitFor(t, 5*time.Second, 10*time.Millisecond, func() (bool, string) {
		return strings.Contains(p.Log(), "started"), "log: " + p.Log()
	})
	if !p.Running() {
		t.Fatal("Running() = false for a sleeping process")
	}
	if _, err := p.Wait(50 * time.Millisecond); !errors.Is(err, ErrStillRunning) {
		t.Fatalf("Wait on a running process: %v, want ErrStillRunning", err)
	}
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code, err := p.Wait(5 * time.Second); err != nil || code != -1 {
		t.Fatalf("Wait after SIGTERM = %d, %v; want -1, nil", code, err)
	}
	if p.Running() {
		t.Fatal("Running() = true after exit")
	}
	if err := p.Signal(syscall.SIGTERM); !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("Signal after exit: %v, want os.ErrProcessDone", err)
	}

	q := h.Start(t, "sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 7")
	if code, err := q.Wait(5 * time.Second); err != nil || code != 7 {
		t.Fatalf("Wait = %d, %v; want 7, nil", code, err)
	}
	if log := q.Log(); !strings.Contains(log, "to-stdout") || !strings.Contains(log, "to-stderr") {
		t.Errorf("log = %q", log)
	}

	k := h.Start(t, "sleep", "30")
	k.Kill()
	if k.Running() {
		t.Error("Running() = true after Kill")
	}
}

func TestTeardown(t *testing.T) {
	var names []string
	var strays []int
	t.Run("bed", func(t *testing.T) {
		b := New(t, 2)
		names = append(names, b.Switch, b.Host(0).NS, b.Host(1).NS)
		b.Host(0).Start(t, "sleep", "60")
		// A process left behind by a command, as a forking daemon would.
		out, _, _ := b.Host(1).Run(t, "sh", "-c", "sleep 60 >/dev/null 2>&1 & echo $!")
		pid, err := strconv.Atoi(strings.TrimSpace(out))
		if err != nil {
			t.Fatalf("pid of stray: %q", out)
		}
		strays = append(strays, pid)
	})
	left, err := namespaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if slices.Contains(left, n) {
			t.Errorf("namespace %s survived teardown", n)
		}
	}
	for _, pid := range strays {
		if syscall.Kill(pid, 0) == nil && !isZombie(pid) {
			t.Errorf("stray process %d survived teardown", pid)
		}
	}
}

func isZombie(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	_, rest, _ := strings.Cut(string(stat), ") ")
	return strings.HasPrefix(rest, "Z")
}

func TestLeftoversRemoved(t *testing.T) {
	Require(t)
	// The pid of a process that has exited stands for a crashed test run.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := cmd.Process.Pid
	leftover := fmt.Sprintf("%s%d-abcdef-h0", namePrefix, dead)
	if err := addNamespace(leftover); err != nil {
		skipOrFatal(t, "cannot create a network namespace: %v", err)
	}
	t.Cleanup(func() { _ = deleteNamespace(leftover) })
	// A namespace of a live process (this one) must be left alone.
	alive := fmt.Sprintf("%s%d-abcdef-h0", namePrefix, os.Getpid())
	if err := addNamespace(alive); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = deleteNamespace(alive) })

	New(t, 1)
	left, err := namespaces()
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(left, leftover) {
		t.Errorf("leftover namespace %s of dead pid %d not removed", leftover, dead)
	}
	if !slices.Contains(left, alive) {
		t.Errorf("namespace %s of a live process removed", alive)
	}
}

func TestParallelBeds(t *testing.T) {
	for i := range 3 {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			t.Parallel()
			b := New(t, 2)
			if !reachable(t, b, 0, 1, b.Host(1).IP) {
				t.Errorf("h0 cannot reach h1 in bed %s", b.Switch)
			}
		})
	}
}

// fakeTB records Fatalf instead of stopping the goroutine.
type fakeTB struct {
	testing.TB
	fatal string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
}

func TestWaitFor(t *testing.T) {
	n := 0
	WaitFor(t, time.Second, time.Millisecond, func() (bool, string) {
		n++
		return n == 3, ""
	})
	if n != 3 {
		t.Errorf("cond called %d times, want 3", n)
	}

	f := &fakeTB{TB: t}
	start := time.Now()
	WaitFor(f, 100*time.Millisecond, 10*time.Millisecond, func() (bool, string) { return false, "still no" })
	if !strings.Contains(f.fatal, "still no") {
		t.Errorf("failure message %q does not carry the last message", f.fatal)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 2*time.Second {
		t.Errorf("gave up after %v, want about 100ms", d)
	}
}

func TestDeadOwner(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	name := func(pid int) string { return fmt.Sprintf("%s%d-0a1b2c-h3", namePrefix, pid) }
	// Not waited for yet: a zombie, as a killed test binary is until reaped.
	WaitFor(t, 5*time.Second, 5*time.Millisecond, func() (bool, string) {
		return isZombie(pid), "child not a zombie yet"
	})
	if !deadOwner(name(pid)) {
		t.Errorf("zombie owner %d counted as alive", pid)
	}
	_ = cmd.Wait()
	if !deadOwner(name(pid)) {
		t.Errorf("exited owner %d counted as alive", pid)
	}
	if deadOwner(name(os.Getpid())) {
		t.Error("own pid counted as dead")
	}
	for _, other := range []string{"pdt-x-h0", "netns-1", fmt.Sprintf("pdt-%d", pid)} {
		if deadOwner(other) {
			t.Errorf("%q is not a bed name but was taken for a leftover", other)
		}
	}
}

// Client isolation on the switch: multicast still reaches every host,
// unicast reaches none, until it is turned off.
func TestIsolateClients(t *testing.T) {
	b := New(t, 2)
	if !reachable(t, b, 0, 1, b.Host(1).IP) {
		t.Fatal("h0 cannot reach h1 before isolation")
	}
	b.IsolateClients(t, true)
	if ok, diag := received(t, b, 0, 1, mdnsV4, 3*time.Second); !ok {
		t.Errorf("multicast blocked by client isolation: %s", diag)
	}
	if reachable(t, b, 0, 1, b.Host(1).IP) || reachable(t, b, 1, 0, b.Host(0).IP) {
		t.Error("unicast passes client isolation")
	}
	b.IsolateClients(t, false)
	if !reachable(t, b, 0, 1, b.Host(1).IP) {
		t.Error("unicast still blocked after isolation is off")
	}
}
