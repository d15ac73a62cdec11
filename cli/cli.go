// Package cli is Peerdesk's command line: the command tree on cobra (help
// with examples, completion scripts, man pages), each command's flags,
// output (text or --json) and exit status, the daemon, and starting or
// handing over to the desktop app. Commands ask the running peer through
// node.LocalClient, or, where that makes sense with no peer running, read
// the home's state directly.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/peerdesk/peerdesk/identity"
	"github.com/peerdesk/peerdesk/internal/human"
	"github.com/peerdesk/peerdesk/internal/logfile"

	"github.com/peerdesk/peerdesk/control"
	"github.com/peerdesk/peerdesk/discovery"
	"github.com/peerdesk/peerdesk/node"
)

// Version is the release this binary reports (set by package main).
var Version = "unknown"

// Exit statuses (README.md, "Using the CLI"): scripts depend on them.
const (
	exitOK       = 0
	exitError    = 1
	exitUsage    = 2
	exitDenied   = 3
	exitNotFound = 4
	exitChanged  = 5
)

// cli carries what every command needs.
type cli struct {
	home   string
	stdin  io.Reader // nil: os.Stdin
	stdout io.Writer
	stderr io.Writer
}

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// Run runs the command line args (without the program name) and returns
// the exit status.
func Run(args []string, stdout, stderr io.Writer) int {
	home, args, err := extractHome(args)
	if err != nil {
		fmt.Fprintln(stderr, "peerdesk:", err)
		return exitUsage
	}
	if home == "" {
		home, err = defaultHome()
		if err != nil {
			fmt.Fprintln(stderr, "peerdesk:", err)
			return exitError
		}
	}
	// Names and messages from other peers reach both streams: nothing of
	// theirs may drive the terminal.
	c := &cli{home: home, stdout: human.TerminalSafe(stdout), stderr: human.TerminalSafe(stderr)}
	// No command, or only the app's flags (`peerdesk --name desk`): the
	// desktop app.
	if len(args) == 0 || isGUIFlag(args[0]) {
		return c.report(c.gui(args))
	}
	switch args[0] {
	case "--version", "-version":
		fmt.Fprintln(c.stdout, "peerdesk", Version)
		return exitOK
	}
	root := c.commands()
	root.SetArgs(args)
	return c.report(root.Execute())
}

func isGUIFlag(arg string) bool {
	name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
	return strings.HasPrefix(arg, "-") && slices.Contains([]string{"name", "port", "listen", "no-mdns"}, name)
}

func (c *cli) report(err error) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	fmt.Fprintln(c.stderr, "peerdesk:", err)
	var ue usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	var ce *control.Error
	code := node.Code(err)
	if errors.As(err, &ce) {
		code = ce.Code
	}
	switch code {
	case "usage":
		return exitUsage
	case "denied":
		return exitDenied
	case "not_found":
		return exitNotFound
	case "changed":
		return exitChanged
	}
	return exitError
}

// extractHome takes --home DIR / --home=DIR from anywhere in args.
func extractHome(args []string) (string, []string, error) {
	var home string
	rest := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			rest = append(rest, args[i:]...)
			i = len(args)
		case a == "--home" || a == "-home":
			if i+1 >= len(args) {
				return "", nil, errors.New("--home needs a directory")
			}
			home = args[i+1]
			i++
		case strings.HasPrefix(a, "--home=") || strings.HasPrefix(a, "-home="):
			home = a[strings.Index(a, "=")+1:]
		default:
			rest = append(rest, a)
		}
	}
	if home != "" {
		abs, err := filepath.Abs(home)
		if err != nil {
			return "", nil, err
		}
		home = abs
	}
	return home, rest, nil
}

func defaultHome() (string, error) {
	if h := os.Getenv("PEERDESK_HOME"); h != "" {
		return filepath.Abs(h)
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no home: set --home or PEERDESK_HOME (%v)", err)
	}
	return filepath.Join(dir, "peerdesk"), nil
}

// parseFlags parses fs from args allowing flags after positional arguments,
// and checks the number of positionals.
func parseFlags(fs *flag.FlagSet, args []string, minPos, maxPos int, usage string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, usagef("usage: peerdesk %s", usage)
			}
			return nil, usagef("%s: %v (usage: peerdesk %s)", fs.Name(), err, usage)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		if args[0] == "--" {
			pos = append(pos, args[1:]...)
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if len(pos) < minPos || (maxPos >= 0 && len(pos) > maxPos) {
		return nil, usagef("usage: peerdesk %s", usage)
	}
	return pos, nil
}

// fileLogger logs to standard error and to the log file in the home
// (internal/logfile); without a log file, to standard error alone.
func (c *cli) fileLogger() (*slog.Logger, func()) {
	w, closeLog := c.logWriter()
	return newLogger(w), closeLog
}

// logWriter is where fileLogger's lines go: standard error and the log
// file in the home. A detached desktop app has the log file as its
// standard error (so that a crash's trace lands in the log): each line is
// then written once.
func (c *cli) logWriter() (io.Writer, func()) {
	if err := node.PrivateHome(c.home); err != nil {
		return c.stderr, func() {}
	}
	lf, err := logfile.Open(c.home)
	if err != nil {
		fmt.Fprintln(c.stderr, "peerdesk: no log file:", err)
		return c.stderr, func() {}
	}
	if sameFile(c.stderr, lf.Path()) {
		return lf, func() { lf.Close() }
	}
	return io.MultiWriter(c.stderr, lf), func() { lf.Close() }
}

// sameFile reports whether w is an open file that is the file at path.
func sameFile(w io.Writer, path string) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}

// logPath is the log file fileLogger writes.
func (c *cli) logPath() string { return filepath.Join(c.home, logfile.Name) }

func newLogger(w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	switch strings.ToLower(os.Getenv("PEERDESK_LOG")) {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

func (c *cli) daemon(args []string) error {
	fs := flag.NewFlagSet("daemon", flag.ContinueOnError)
	name := fs.String("name", "", "display name of this peer")
	port := fs.Int("port", 0, "UDP port to listen on")
	listen := fs.String("listen", "", "listen on this address only")
	noMDNS := fs.Bool("no-mdns", false, "do not use mDNS (peers must be added by address)")
	if _, err := parseFlags(fs, args, 0, 0, "daemon [--name N] [--port P] [--listen HOST] [--no-mdns]"); err != nil {
		return err
	}
	if *port < 0 || *port > 65535 {
		return usagef("daemon: --port must be 1-65535")
	}
	log, closeLog := c.fileLogger()
	defer closeLog()
	slog.SetDefault(log)
	if path := os.Getenv("PEERDESK_CPUPROFILE"); path != "" {
		// For developers measuring the daemon (docs/performance.md).
		stopProfile, err := startCPUProfile(path)
		if err != nil {
			return err
		}
		defer stopProfile()
	}
	defer heapProfileLater(log)()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// One processor while no transfer runs: an idle daemon's scattered
	// wake-ups cost a quarter less CPU (docs/performance.md).
	defer node.GovernProcessors(log)()
	n, err := node.Start(ctx, node.Config{Home: c.home, Name: *name, Port: *port, ListenHost: *listen, NoMDNS: *noMDNS, Logger: log})
	if err != nil {
		return err
	}
	<-ctx.Done()
	log.Info("stopping")
	return n.Close()
}

// ask runs fn against the running peer, for at most timeout; Ctrl-C
// cancels it. With no peer running it returns control.ErrNotRunning.
func (c *cli) ask(timeout time.Duration, fn func(context.Context, node.LocalClient) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	return fn(ctx, node.LocalClient{Home: c.home})
}

func notRunningHint() error {
	return fmt.Errorf("%w: start one with `peerdesk daemon` (or the desktop app)", control.ErrNotRunning)
}

// askOrOffline asks the running peer (online), or, when none runs, calls
// offline (nil: the command needs a running peer) with the home's state while holding the instance lock (so that a
// peer starting meanwhile waits its turn). A peer that holds the lock but
// has no socket yet is starting: the call is retried for a moment.
func (c *cli) askOrOffline(timeout time.Duration, online func(context.Context, node.LocalClient) error, offline func(*node.State) error) error {
	deadline := time.Now().Add(3 * time.Second)
	for {
		err := c.ask(timeout, online)
		if !errors.Is(err, control.ErrNotRunning) {
			return err
		}
		st, unlock, serr := c.offlineState()
		if serr == nil {
			defer unlock()
			if offline == nil {
				return notRunningHint()
			}
			return offline(st)
		}
		if !errors.Is(serr, node.ErrAlreadyRunning) || time.Now().After(deadline) {
			return serr
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *cli) offlineState() (*node.State, func(), error) {
	unlock, err := node.LockHome(c.home)
	if err != nil {
		return nil, nil, err
	}
	st, err := node.OpenState(c.home, slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		unlock()
		return nil, nil, err
	}
	return st, unlock, nil
}

func (c *cli) id(args []string) error {
	fs := flag.NewFlagSet("id", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "machine-readable output")
	if _, err := parseFlags(fs, args, 0, 0, "id [--json]"); err != nil {
		return err
	}
	var info node.IDInfo
	err := c.askOrOffline(5*time.Second, func(ctx context.Context, lc node.LocalClient) (err error) { info, err = lc.ID(ctx); return }, func(st *node.State) error {
		info = st.ID()
		return nil
	})
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(c.stdout, info)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "ID\t%s\nName\t%s\nFingerprint\t%s\nCode\t%s\nPort\t%d\n", info.ID, info.Name, info.Fingerprint, info.Code, info.Port)
	return tw.Flush()
}

func (c *cli) peers(args []string) error {
	fs := flag.NewFlagSet("peers", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "machine-readable output")
	if _, err := parseFlags(fs, args, 0, 0, "peers [--json]"); err != nil {
		return err
	}
	var list []discovery.Peer
	err := c.askOrOffline(5*time.Second, func(ctx context.Context, lc node.LocalClient) (err error) { list, err = lc.Peers(ctx); return }, func(st *node.State) error {
		list = st.Peers.List()
		fmt.Fprintln(c.stderr, "peerdesk: no peer running for this home; showing remembered peers (all offline)")
		return nil
	})
	if err != nil {
		return err
	}
	if list == nil {
		list = []discovery.Peer{}
	}
	if *asJSON {
		return writeJSON(c.stdout, list)
	}
	if len(list) == 0 {
		fmt.Fprintln(c.stdout, "No peers known yet.")
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tID\tSTATUS\tTRUST\tCODE\tADDRESS\tLAST SEEN")
	for _, p := range list {
		status := "offline"
		if p.Online {
			status = "online"
		}
		addr := "-"
		if len(p.Addresses) > 0 {
			addr = p.Addresses[0]
		}
		seen := "never"
		if !p.LastSeen.IsZero() {
			seen = p.LastSeen.Local().Format("2006-01-02 15:04:05")
		}
		trust := p.Trust
		if p.Offered != "" {
			trust += " (another key offered)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", orDash(p.Name), shortID(p.ID), status, trust, orDash(identity.VerificationCode(p.Fingerprint)), addr, seen)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, p := range list {
		if p.Offered != "" {
			fmt.Fprintf(c.stdout, "\nAnother key (code %s) was offered for %s, whose trusted code is %s. The trusted key stays.\n"+
				"If %s was reinstalled, compare codes with its owner, then: peerdesk trust %s --fingerprint CODE\n",
				identity.VerificationCode(p.Offered), orDash(p.Name), identity.VerificationCode(p.Fingerprint), orDash(p.Name), p.ID)
		}
	}
	return nil
}

func (c *cli) peerAdd(args []string) error {
	fs := flag.NewFlagSet("peer add", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "machine-readable output")
	pos, err := parseFlags(fs, args, 1, 1, "peer add HOST:PORT")
	if err != nil {
		return err
	}
	var p discovery.Peer
	if err := c.askOrOffline(10*time.Second, func(ctx context.Context, lc node.LocalClient) (err error) { p, err = lc.AddPeer(ctx, pos[0]); return }, nil); err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(c.stdout, p)
	}
	fmt.Fprintf(c.stdout, "Added %s (%s), trust %s, code %s\n", orDash(p.Name), p.ID, p.Trust, identity.VerificationCode(p.Fingerprint))
	return nil
}

func (c *cli) peerRm(args []string) error {
	fs := flag.NewFlagSet("peer rm", flag.ContinueOnError)
	pos, err := parseFlags(fs, args, 1, 1, "peer rm PEER")
	if err != nil {
		return err
	}
	return c.askOrOffline(5*time.Second, func(ctx context.Context, lc node.LocalClient) error { return lc.RemovePeer(ctx, pos[0]) }, func(st *node.State) error {
		if st.Peers.Remove(pos[0]) {
			return nil
		}
		p, err := st.ResolvePeer(pos[0])
		if err != nil {
			return err
		}
		st.Peers.Remove(p.ID)
		return nil
	})
}

func (c *cli) ping(args []string) error {
	fs := flag.NewFlagSet("ping", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "machine-readable output")
	pos, err := parseFlags(fs, args, 1, 1, "ping PEER [--json]")
	if err != nil {
		return err
	}
	var res node.PingResult
	if err := c.askOrOffline(10*time.Second, func(ctx context.Context, lc node.LocalClient) (err error) { res, err = lc.Ping(ctx, pos[0]); return }, nil); err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(c.stdout, res)
	}
	fmt.Fprintf(c.stdout, "%s (%s): %.2f ms, trust %s, code %s\n", res.Name, res.ID, res.RTTMillis, res.Trust, identity.VerificationCode(res.Fingerprint))
	return nil
}

func (c *cli) trust(args []string) error {
	fs := flag.NewFlagSet("trust", flag.ContinueOnError)
	fp := fs.String("fingerprint", "", "the peer's fingerprint or verification code, read off its screen")
	asJSON := fs.Bool("json", false, "machine-readable output")
	pos, err := parseFlags(fs, args, 1, 1, "trust PEER [--fingerprint FP|CODE]")
	if err != nil {
		return err
	}
	var e identity.TrustEntry
	err = c.askOrOffline(5*time.Second, func(ctx context.Context, lc node.LocalClient) (err error) {
		e, err = lc.Trust(ctx, pos[0], *fp)
		return
	}, func(st *node.State) error {
		var err error
		e, err = st.TrustPeer(pos[0], *fp)
		return err
	})
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(c.stdout, e)
	}
	fmt.Fprintf(c.stdout, "%s is now %s (code %s)\n", e.ID, e.State, identity.VerificationCode(e.Fingerprint))
	return nil
}

func (c *cli) untrust(args []string) error {
	fs := flag.NewFlagSet("untrust", flag.ContinueOnError)
	pos, err := parseFlags(fs, args, 1, 1, "untrust PEER")
	if err != nil {
		return err
	}
	return c.askOrOffline(5*time.Second, func(ctx context.Context, lc node.LocalClient) error { return lc.Untrust(ctx, pos[0]) }, func(st *node.State) error {
		return st.UntrustPeer(pos[0])
	})
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// profileDelay is the duration in seconds the environment variable env
// gives (0 if unset or invalid).
func profileDelay(env string) time.Duration {
	secs, _ := strconv.ParseFloat(os.Getenv(env), 64)
	return time.Duration(max(secs, 0) * float64(time.Second))
}

// heapProfileLater writes a heap profile once if PEERDESK_HEAPPROFILE asks
// for one: for developers measuring the daemon's and the desktop app's
// memory (docs/performance.md). The returned func cancels it.
func heapProfileLater(log *slog.Logger) (cancel func()) {
	path := os.Getenv("PEERDESK_HEAPPROFILE")
	if path == "" {
		return func() {}
	}
	t := time.AfterFunc(profileDelay("PEERDESK_HEAPPROFILE_AFTER"), func() {
		if err := writeHeapProfile(path); err != nil {
			log.Warn("heap profile", "err", err)
		}
	})
	return func() { t.Stop() }
}

// writeHeapProfile writes a profile of the heap in use, as the last
// collection left it, to path, and the goroutines with a summary of the
// runtime's memory to path.goroutines: PEERDESK_HEAPPROFILE, after
// PEERDESK_HEAPPROFILE_AFTER seconds (at once if unset).
func writeHeapProfile(path string) error {
	runtime.GC() // the profile shows what the last collection found live
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	// The goroutines and their stacks too: at a hundred sessions their
	// stacks hold more than the heap.
	g, err := os.OpenFile(path+".goroutines", os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	fmt.Fprintf(g, "# goroutines %d\n", runtime.NumGoroutine())
	writeMemoryClasses(g)
	if err := pprof.Lookup("goroutine").WriteTo(g, 1); err != nil {
		g.Close()
		return err
	}
	return g.Close()
}

// writeMemoryClasses writes, one "# class bytes" line each, every class
// of memory the runtime has from the OS (runtime/metrics'
// /memory/classes/...): where a daemon's anonymous RSS goes, heap objects
// against the space free spans and stacks hold.
func writeMemoryClasses(w io.Writer) {
	var samples []metrics.Sample
	for _, d := range metrics.All() {
		if strings.HasPrefix(d.Name, "/memory/classes/") && d.Kind == metrics.KindUint64 {
			samples = append(samples, metrics.Sample{Name: d.Name})
		}
	}
	metrics.Read(samples)
	for _, s := range samples {
		fmt.Fprintf(w, "# %s %d\n", strings.TrimPrefix(s.Name, "/memory/classes/"), s.Value.Uint64())
	}
}

// startCPUProfile writes a CPU profile of this process to path until the
// returned function is called. PEERDESK_CPUPROFILE_AFTER (seconds) starts
// it later and PEERDESK_CPUPROFILE_SECONDS ends it early: a profile of
// one phase of a run (many peers finding each other, or then idling),
// not of its shutdown.
func startCPUProfile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	after, length := profileDelay("PEERDESK_CPUPROFILE_AFTER"), profileDelay("PEERDESK_CPUPROFILE_SECONDS")
	var mu sync.Mutex
	started, stopped := false, false
	start := func() {
		mu.Lock()
		defer mu.Unlock()
		if !stopped && pprof.StartCPUProfile(f) == nil {
			started = true
		}
	}
	stop := func() {
		mu.Lock()
		defer mu.Unlock()
		if started {
			pprof.StopCPUProfile()
		}
		if !stopped {
			f.Close()
		}
		started, stopped = false, true
	}
	if after > 0 {
		time.AfterFunc(after, start)
	} else if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	} else {
		started = true
	}
	if length > 0 {
		time.AfterFunc(after+length, stop)
	}
	return stop, nil
}
