package netns

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Names every bed uses inside its namespaces. They are fixed because each
// namespace has its own interface name space: only namespace names and
// temp directories need to be unique on the machine.
const (
	// BridgeName is the bridge inside the switch namespace.
	BridgeName = "br0"
	// HostIface is the host end of the veth pair, inside a host namespace.
	HostIface = "eth0"

	// namePrefix starts every namespace and temp directory a bed creates;
	// it is followed by the creating process's pid so that leftovers of a
	// crashed run can be told from the live beds of a concurrent one.
	namePrefix = "pdt-"

	// MaxHosts is the largest bed New builds (one /24, .1 to .250).
	MaxHosts = 250

	// DefaultRunTimeout bounds Host.Run unless WithRunTimeout says otherwise.
	DefaultRunTimeout = 20 * time.Second

	// ipTimeout bounds each ip/nft/iptables call the bed makes itself.
	ipTimeout = 30 * time.Second
)

// leftoverRE matches names made by namePrefix+pid+"-"+random: group 1 is
// the pid of the process that made it.
var leftoverRE = regexp.MustCompile(`^` + namePrefix + `([0-9]+)-[0-9a-f]+(-.*)?$`)

// Bed is one test LAN: a switch namespace with a bridge and Hosts wired to it.
type Bed struct {
	// Switch is the namespace holding the bridge BridgeName and the switch
	// ends of the veth pairs (Host.SwitchPort).
	Switch string
	// Subnet is the IPv4 subnet of the hosts, 10.77.X.0/24.
	Subnet netip.Prefix
	// Subnet6 is the IPv6 subnet of the hosts when WithIPv6 was given.
	Subnet6 netip.Prefix
	// Hosts are the bed's hosts, Hosts[i] has address .i+1.
	Hosts []*Host
	// Dir is a short private directory holding the hosts' homes and the
	// process logs; removed at teardown.
	Dir string

	cfg   config
	id    string // namePrefix + pid + "-" + random
	mu    sync.Mutex
	seq   int
	namez []string // every namespace created, in creation order
}

// Host is one machine of the bed: a network namespace with one interface.
type Host struct {
	// Name is the host's short name: "h0", "h1", ...
	Name string
	// Index is the host's position in Bed.Hosts.
	Index int
	// NS is the network namespace name, for `ip netns exec NS ...`.
	NS string
	// IP is the host's IPv4 address on HostIface.
	IP netip.Addr
	// IP6 is the host's IPv6 ULA on HostIface; the zero Addr unless WithIPv6.
	// (Every host also has an IPv6 link-local address unless IPv6 is off
	// in the kernel.)
	IP6 netip.Addr
	// Iface is the interface inside NS: HostIface.
	Iface string
	// SwitchPort is the switch end of this host's veth, inside Bed.Switch.
	SwitchPort string
	// Home is this host's private home directory: commands run with HOME
	// and PEERDESK_HOME set to it (and XDG_*_HOME below it).
	Home string
	// Env holds extra KEY=VALUE entries for every command started on the
	// host from now on; later entries win over earlier ones.
	Env []string

	bed *Bed
}

// Option changes how New builds a bed.
type Option func(*config)

type config struct {
	ipv6       bool
	runTimeout time.Duration
}

// WithIPv6 gives every host an IPv6 ULA, fd77:0:0:X::i+1/64, in Host.IP6
// (without duplicate-address detection, so it is usable at once).
func WithIPv6() Option { return func(c *config) { c.ipv6 = true } }

// WithRunTimeout changes the default timeout of Host.Run (DefaultRunTimeout).
func WithRunTimeout(d time.Duration) Option { return func(c *config) { c.runTimeout = d } }

// New builds a bed of n hosts and registers its teardown with t.Cleanup:
// every process still running in the bed's namespaces is killed, the
// namespaces are deleted and Dir is removed, whether the test passed or not.
//
// Without root or the ip tool New skips the test, or fails it if CI=true.
func New(t testing.TB, n int, opts ...Option) *Bed {
	t.Helper()
	if n < 1 || n > MaxHosts {
		t.Fatalf("netns.New: %d hosts, want 1..%d", n, MaxHosts)
	}
	Require(t)
	cfg := config{runTimeout: DefaultRunTimeout}
	for _, o := range opts {
		o(&cfg)
	}

	cleanLeftovers(t)
	ensureNeighbourRoom(t, n)

	id := namePrefix + strconv.Itoa(os.Getpid()) + "-" + randomHex(3)
	x := pickSubnet()
	b := &Bed{
		Switch: id + "-sw",
		Subnet: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 77, byte(x), 0}), 24),
		cfg:    cfg,
		id:     id,
	}
	if cfg.ipv6 {
		b.Subnet6 = netip.MustParsePrefix(fmt.Sprintf("fd77:0:0:%x::/64", x))
	}
	dir := filepath.Join(os.TempDir(), id)
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatalf("netns: bed directory: %v", err)
	}
	b.Dir = dir
	// Registered before anything is created so that a New failing half way
	// still leaves nothing behind.
	t.Cleanup(func() {
		for _, err := range b.teardown() {
			t.Errorf("netns teardown: %v", err)
		}
	})

	if err := addNamespace(b.Switch); err != nil {
		// The first namespace is where an unprivileged container or a
		// kernel without netns support shows itself.
		skipOrFatal(t, "cannot create a network namespace: %v", err)
	}
	b.namez = append(b.namez, b.Switch)
	// The switch has no addresses: keep it quiet on IPv6 and let bridged
	// multicast flood to every port (no IGMP/MLD snooping, no querier).
	b.sysctls(t, b.Switch, ipv6Off...)
	b.ipBatch(t, b.Switch,
		"link add "+BridgeName+" type bridge mcast_snooping 0 stp_state 0",
		"link set "+BridgeName+" up")

	for i := range n {
		b.Hosts = append(b.Hosts, b.addHost(t, i))
	}
	return b
}

// ensureNeighbourRoom makes the kernel's neighbour (ARP and NDP) tables
// big enough for n hosts that all talk to each other. The tables and
// their limits are shared by every namespace on the machine (only the
// initial namespace may set them): with the default 1,024 entries, 50
// hosts (2,450 neighbours) left the last ones started unable to send any
// unicast at all (sendmsg: ENOBUFS), which no real office with one kernel
// per PC sees. The limits are only ever raised.
func ensureNeighbourRoom(t testing.TB, n int) {
	t.Helper()
	need := 2*n*n + 1024
	for _, family := range []string{"ipv4", "ipv6"} {
		if family == "ipv6" && !ipv6Enabled() {
			continue
		}
		for _, k := range []string{"gc_thresh2", "gc_thresh3"} {
			path := "/proc/sys/net/" + family + "/neigh/default/" + k
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("netns: %v", err)
			}
			cur, err := strconv.Atoi(strings.TrimSpace(string(data)))
			if err != nil {
				t.Fatalf("netns: %s: %v", path, err)
			}
			if cur >= need {
				continue
			}
			if err := os.WriteFile(path, []byte(strconv.Itoa(need)), 0o644); err != nil {
				t.Fatalf("netns: raising %s for %d hosts: %v", path, n, err)
			}
		}
	}
}

// ipv6Off are the sysctls that silence IPv6 in the switch namespace.
var ipv6Off = []string{
	"net.ipv6.conf.default.disable_ipv6=1",
	"net.ipv6.conf.all.disable_ipv6=1",
}

// noDAD makes IPv6 link-local addresses usable at once instead of after
// duplicate address detection (about a second).
var noDAD = []string{
	"net.ipv6.conf.default.accept_dad=0",
	"net.ipv6.conf.all.accept_dad=0",
}

func (b *Bed) addHost(t testing.TB, i int) *Host {
	t.Helper()
	h := &Host{
		Name:       "h" + strconv.Itoa(i),
		Index:      i,
		NS:         b.id + "-h" + strconv.Itoa(i),
		Iface:      HostIface,
		SwitchPort: "p" + strconv.Itoa(i),
		bed:        b,
	}
	a4 := b.Subnet.Addr().As4()
	a4[3] = byte(i + 1)
	h.IP = netip.AddrFrom4(a4)
	if err := addNamespace(h.NS); err != nil {
		t.Fatalf("netns: %v", err)
	}
	b.namez = append(b.namez, h.NS)
	h.Home = filepath.Join(b.Dir, h.Name)
	if err := os.Mkdir(h.Home, 0o700); err != nil {
		t.Fatalf("netns: home of %s: %v", h.Name, err)
	}

	b.sysctls(t, h.NS, noDAD...)
	b.ipBatch(t, b.Switch,
		"link add "+h.SwitchPort+" type veth peer name "+h.Iface+" netns "+h.NS,
		"link set "+h.SwitchPort+" master "+BridgeName+" up")
	cmds := []string{
		"link set lo up",
		"link set " + h.Iface + " multicast on up",
		"addr add " + netip.PrefixFrom(h.IP, b.Subnet.Bits()).String() + " dev " + h.Iface,
		// No default route on purpose (nothing lies beyond the bed), so
		// multicast needs its own route or sends fail with "network
		// unreachable".
		"route add 224.0.0.0/4 dev " + h.Iface,
	}
	if b.cfg.ipv6 {
		a := b.Subnet6.Addr().As16()
		a[15] = byte(i + 1)
		h.IP6 = netip.AddrFrom16(a)
		cmds = append(cmds, "addr add "+netip.PrefixFrom(h.IP6, 64).String()+" dev "+h.Iface+" nodad")
	}
	b.ipBatch(t, h.NS, cmds...)
	return h
}

// Host returns host i; it panics if there is none, like an index would.
func (b *Bed) Host(i int) *Host {
	if i < 0 || i >= len(b.Hosts) {
		panic(fmt.Sprintf("netns: bed has %d hosts, no host %d", len(b.Hosts), i))
	}
	return b.Hosts[i]
}

// Unplug takes host i's cable out: its switch port goes down, so nothing
// reaches it or leaves it, while its processes keep running unaware.
func (b *Bed) Unplug(t testing.TB, i int) {
	t.Helper()
	b.ip(t, "-n", b.Switch, "link", "set", b.Host(i).SwitchPort, "down")
}

// Plug puts host i's cable back after Unplug.
func (b *Bed) Plug(t testing.TB, i int) {
	t.Helper()
	b.ip(t, "-n", b.Switch, "link", "set", b.Host(i).SwitchPort, "up")
}

// LinkDown takes host i's own network interface down, as a laptop whose
// Wi-Fi has not connected yet: the kernel drops its routes.
func (b *Bed) LinkDown(t testing.TB, i int) {
	t.Helper()
	b.ipBatch(t, b.Host(i).NS, "link set "+b.Host(i).Iface+" down")
}

// LinkUp brings host i's interface back up after LinkDown, with the
// multicast route the bed's hosts need (no default route here).
func (b *Bed) LinkUp(t testing.TB, i int) {
	t.Helper()
	b.ipBatch(t, b.Host(i).NS, "link set "+b.Host(i).Iface+" up", "route replace 224.0.0.0/4 dev "+b.Host(i).Iface)
}

// Attach plugs a second cable into host h of another bed, as a docking
// station or a second network card would: a new interface iface in h's
// namespace on this bed's switch, with address .slot+1 of this bed's
// subnet (a slot no host of this bed uses). It returns that address.
func (b *Bed) Attach(t testing.TB, h *Host, iface string, slot int) netip.Addr {
	t.Helper()
	a4 := b.Subnet.Addr().As4()
	a4[3] = byte(slot + 1)
	addr := netip.AddrFrom4(a4)
	port := "a" + strconv.Itoa(slot)
	b.ipBatch(t, b.Switch,
		"link add "+port+" type veth peer name "+iface+" netns "+h.NS,
		"link set "+port+" master "+BridgeName+" up")
	b.ipBatch(t, h.NS,
		"link set "+iface+" multicast on up",
		"addr add "+netip.PrefixFrom(addr, b.Subnet.Bits()).String()+" dev "+iface)
	return addr
}

// Route joins bed a and bed b through router, a host of a: it gets an
// interface on b's switch (address slot of b) and forwards between the
// two subnets; every other host of a reaches b's subnet through it, and
// every host of b reaches a's through its address on b. Multicast is not
// forwarded, as office routers do not forward mDNS: each side discovers
// only its own. The router should run no peer.
func Route(t testing.TB, a, b *Bed, router *Host, slot int) {
	t.Helper()
	onB := b.Attach(t, router, "eth1", slot)
	a.sysctls(t, router.NS, "net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0")
	for _, h := range a.Hosts {
		if h != router {
			a.ipBatch(t, h.NS, "route add "+b.Subnet.String()+" via "+router.IP.String())
		}
	}
	for _, h := range b.Hosts {
		b.ipBatch(t, h.NS, "route add "+a.Subnet.String()+" via "+onB.String())
	}
}

// Readdress moves host i to another IPv4 address of the bed's subnet (a
// new DHCP lease): the old one goes, Host.IP becomes the new one.
func (b *Bed) Readdress(t testing.TB, i int, to netip.Addr) {
	t.Helper()
	h := b.Host(i)
	// Old first: deleting a primary address takes the secondaries of its
	// subnet with it. The last address gone flushes the device's routes,
	// so the multicast route comes back too.
	b.ipBatch(t, h.NS,
		"addr del "+netip.PrefixFrom(h.IP, b.Subnet.Bits()).String()+" dev "+h.Iface,
		"addr add "+netip.PrefixFrom(to, b.Subnet.Bits()).String()+" dev "+h.Iface,
		"route replace 224.0.0.0/4 dev "+h.Iface)
	h.IP = to
}

// Require skips the test (or fails it if CI=true) unless the machine can
// build beds: root and the ip tool.
func Require(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		skipOrFatal(t, "needs root for network namespaces (run the tests as root, e.g. sudo -E go test ./...)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		skipOrFatal(t, "needs the ip tool (iproute2; scripts/deps.sh installs it): %v", err)
	}
}

// skipOrFatal skips the test, except in CI where a skipped integration
// test would hide a broken machine.
func skipOrFatal(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := "netns: " + fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: namespace tests must run, not skip)")
	}
	t.Skip(msg)
}

// ip runs the ip tool and fails the test with its output on error.
func (b *Bed) ip(t testing.TB, args ...string) {
	t.Helper()
	if _, err := run(nil, "ip", args...); err != nil {
		t.Fatalf("netns: %v", err)
	}
}

// ipBatch runs ip commands (without the leading "ip") in namespace ns with
// one ip process, failing the test with ip's output on the first error.
func (b *Bed) ipBatch(t testing.TB, ns string, cmds ...string) {
	t.Helper()
	if _, err := run([]byte(strings.Join(cmds, "\n")+"\n"), "ip", "-n", ns, "-batch", "-"); err != nil {
		t.Fatalf("netns: %v\ncommands:\n%s", err, strings.Join(cmds, "\n"))
	}
}

// sysctls writes net.* sysctls ("key=value") inside namespace ns. IPv6
// keys are skipped when the kernel has no IPv6.
func (b *Bed) sysctls(t testing.TB, ns string, kvs ...string) {
	t.Helper()
	args := []string{"netns", "exec", ns, "sh", "-c", `for kv; do echo "${kv#*=}" > "${kv%%=*}" || exit 1; done`, "sh"}
	for _, kv := range kvs {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "net.ipv6.") && !ipv6Enabled() {
			continue
		}
		args = append(args, "/proc/sys/"+strings.ReplaceAll(k, ".", "/")+"="+v)
	}
	// /proc/sys/net shows the sysctls of the reader's namespace, so the
	// writes must happen inside ns; sh is everywhere, sysctl is not.
	if _, err := run(nil, "ip", args...); err != nil {
		t.Fatalf("netns: sysctls in %s: %v", ns, err)
	}
}

func ipv6Enabled() bool {
	_, err := os.Stat("/proc/sys/net/ipv6")
	return err == nil
}

// run runs a command with a deadline and returns its stdout; the error
// names the command and carries its combined output.
func run(stdin []byte, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), ipTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	if err := cmd.Run(); err != nil {
		out := strings.TrimSpace(stderr.String() + stdout.String())
		return stdout.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, out)
	}
	return stdout.String(), nil
}

// addNamespace creates a namespace. The first `ip netns add` on a machine
// also creates the /run/netns mount, which races with concurrent test
// processes doing the same; a retry settles it.
func addNamespace(name string) error {
	var err error
	for attempt := range 3 {
		if _, err = run(nil, "ip", "netns", "add", name); err == nil {
			return nil
		}
		time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
	}
	return err
}

// namespaces lists the machine's named network namespaces.
func namespaces() ([]string, error) {
	out, err := run(nil, "ip", "netns", "list")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, line := range strings.Split(out, "\n") {
		// Lines look like "NAME" or "NAME (id: 3)".
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names, nil
}

// teardown kills whatever runs in the bed, deletes its namespaces (hosts
// first, switch last) and removes Dir. It returns every error instead of
// stopping at the first, so one stuck namespace does not leak the others.
func (b *Bed) teardown() []error {
	var errs []error
	for i := len(b.namez) - 1; i >= 0; i-- {
		if err := deleteNamespace(b.namez[i]); err != nil {
			errs = append(errs, err)
		}
	}
	if b.Dir != "" {
		if err := os.RemoveAll(b.Dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// deleteNamespace kills every process in ns and deletes it. A namespace
// with processes left in it would outlive `ip netns del`, so the kill is
// repeated until `ip netns pids` is empty.
func deleteNamespace(ns string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := run(nil, "ip", "netns", "pids", ns)
		if err != nil {
			return fmt.Errorf("list processes in %s: %w", ns, err)
		}
		pids := strings.Fields(out)
		if len(pids) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes %v in %s survive SIGKILL", pids, ns)
		}
		for _, p := range pids {
			if pid, err := strconv.Atoi(p); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := run(nil, "ip", "netns", "del", ns); err != nil {
		return err
	}
	return nil
}

// cleanLeftovers removes namespaces and directories that beds of dead
// processes left behind (a test binary killed by a timeout runs no
// cleanup). Beds of live processes, e.g. other test packages running in
// parallel, are left alone.
func cleanLeftovers(t testing.TB) {
	t.Helper()
	names, err := namespaces()
	if err != nil {
		t.Fatalf("netns: %v", err)
	}
	for _, ns := range names {
		if deadOwner(ns) {
			if err := deleteNamespace(ns); err != nil {
				t.Logf("netns: leftover namespace %s: %v", ns, err)
			}
		}
	}
	cleanLeftoverDirs()
}

// cleanLeftoverDirs removes bed and build directories of dead processes.
func cleanLeftoverDirs() {
	entries, _ := os.ReadDir(os.TempDir())
	for _, e := range entries {
		if e.IsDir() && deadOwner(e.Name()) {
			_ = os.RemoveAll(filepath.Join(os.TempDir(), e.Name()))
		}
	}
}

// deadOwner reports whether name was made by this package for a process
// that no longer exists.
func deadOwner(name string) bool {
	m := leftoverRE.FindStringSubmatch(name)
	if m == nil {
		return false
	}
	pid, err := strconv.Atoi(m[1])
	if err != nil || pid <= 0 {
		return false
	}
	if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
		return true
	}
	// A killed test binary stays a zombie until its parent reaps it.
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	_, rest, _ := strings.Cut(string(stat), ") ")
	return strings.HasPrefix(rest, "Z")
}

var (
	subnetMu   sync.Mutex
	subnetNext = -1
)

// pickSubnet returns X for 10.77.X.0/24. Beds cannot see each other, so a
// collision would be harmless; distinct subnets just make logs of parallel
// beds easier to tell apart.
func pickSubnet() int {
	subnetMu.Lock()
	defer subnetMu.Unlock()
	if subnetNext < 0 {
		r, err := rand.Int(rand.Reader, big.NewInt(254))
		if err != nil {
			subnetNext = os.Getpid() % 254
		} else {
			subnetNext = int(r.Int64())
		}
	}
	x := subnetNext%254 + 1
	subnetNext++
	return x
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b)
}
