package netns

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ErrStillRunning is returned by Proc.Wait when the process outlives the
// timeout.
var ErrStillRunning = errors.New("process still running")

// logTail is how much of a process log is shown when a test fails.
const logTail = 64 << 10

// Proc is a process started on a host with Host.Start. Its stdout and
// stderr go, interleaved, to the file LogPath.
type Proc struct {
	// Host is where the process runs.
	Host *Host
	// Cmd is the started command; do not call its Wait.
	Cmd *exec.Cmd
	// LogPath is the file holding its stdout and stderr.
	LogPath string

	name string // base name of the binary, for messages

	done  chan struct{} // closed once Cmd.Wait returned
	state *os.ProcessState
}

// RunOptions tune Host.RunWith. The zero value is what Host.Run uses.
type RunOptions struct {
	// Env holds extra KEY=VALUE entries (after Host.Env; later wins).
	Env []string
	// Stdin is the command's standard input; nil means none.
	Stdin io.Reader
	// Timeout bounds the command; zero means the bed's run timeout
	// (DefaultRunTimeout unless WithRunTimeout). The command is killed and
	// the test fails when it is exceeded.
	Timeout time.Duration
}

// Command returns a command that runs bin with args inside the host's
// namespace, in its home, with its environment (see Host.Home, Host.Env).
// It is not started; it runs in its own process group. Start and Run are
// the usual way; Command is for the cases they do not cover.
func (h *Host) Command(ctx context.Context, bin string, args ...string) *exec.Cmd {
	argv := append([]string{"netns", "exec", h.NS, bin}, args...)
	cmd := exec.CommandContext(ctx, "ip", argv...)
	cmd.Dir = h.Home
	cmd.Env = h.environ(nil)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return killGroup(cmd.Process.Pid) }
	return cmd
}

// environ is the test process's environment with the home-related
// variables pointed into h.Home, then h.Env, then extra.
func (h *Host) environ(extra []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "HOME" || strings.HasPrefix(k, "PEERDESK_") || strings.HasPrefix(k, "XDG_") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"HOME="+h.Home,
		"PEERDESK_HOME="+h.Home,
		"XDG_CONFIG_HOME="+filepath.Join(h.Home, ".config"),
		"XDG_CACHE_HOME="+filepath.Join(h.Home, ".cache"),
		"XDG_DATA_HOME="+filepath.Join(h.Home, ".local", "share"),
	)
	env = append(env, h.Env...)
	return append(env, extra...)
}

// Start starts bin with args in the background on the host. The process is
// killed (its whole process group) when the test ends if it still runs,
// and its log is written to the test log if the test failed.
func (h *Host) Start(t testing.TB, bin string, args ...string) *Proc {
	t.Helper()
	bin = resolve(t, bin)
	b := h.bed
	b.mu.Lock()
	b.seq++
	logPath := filepath.Join(b.Dir, fmt.Sprintf("%s-%s-%d.log", h.Name, filepath.Base(bin), b.seq))
	b.mu.Unlock()
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatalf("netns: log for %s: %v", bin, err)
	}
	cmd := h.Command(context.Background(), bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("netns: start %s on %s: %v", bin, h.Name, err)
	}
	logFile.Close() // the child has its own copy
	p := &Proc{Host: h, Cmd: cmd, LogPath: logPath, name: filepath.Base(bin), done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		p.state = cmd.ProcessState
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("netns: %s on %s (%s) %s; its output:\n%s", p.name, h.Name, h.IP,
				p.state, tail(p.Log(), logTail))
		}
	})
	return p
}

// Pid is the process id (in the machine's pid namespace: bed namespaces
// are network namespaces only).
func (p *Proc) Pid() int { return p.Cmd.Process.Pid }

// Signal sends sig to the process (not its group), e.g. syscall.SIGTERM to
// ask a daemon for a graceful stop.
func (p *Proc) Signal(sig os.Signal) error {
	if !p.Running() {
		return os.ErrProcessDone
	}
	return p.Cmd.Process.Signal(sig)
}

// Kill kills the process group with SIGKILL, as a crash or a power cut
// would, and waits until the process is gone. Killing an exited process is
// a no-op.
func (p *Proc) Kill() {
	if p.Running() {
		_ = killGroup(p.Pid())
	}
	<-p.done
}

// Wait waits up to timeout for the process to exit and returns its exit
// code, -1 if a signal ended it. It returns ErrStillRunning, leaving the
// process alone, if it is still running after timeout.
func (p *Proc) Wait(timeout time.Duration) (int, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-p.done:
		return p.state.ExitCode(), nil
	case <-timer.C:
		return 0, fmt.Errorf("%s on %s after %v: %w", p.name, p.Host.Name, timeout, ErrStillRunning)
	}
}

// Running reports whether the process has not exited yet.
func (p *Proc) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Log returns the process's output so far.
func (p *Proc) Log() string {
	data, err := os.ReadFile(p.LogPath)
	if err != nil {
		return fmt.Sprintf("(log unreadable: %v)", err)
	}
	return string(data)
}

// Run runs bin with args on the host and returns its stdout, stderr and
// exit code. Like every helper here it must be called from the test's own
// goroutine: it fails the test if the command cannot start or outlives the
// bed's run timeout (DefaultRunTimeout unless WithRunTimeout).
func (h *Host) Run(t testing.TB, bin string, args ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	return h.RunWith(t, RunOptions{}, bin, args...)
}

// RunWith is Run with extra environment, standard input or a timeout.
func (h *Host) RunWith(t testing.TB, opts RunOptions, bin string, args ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	bin = resolve(t, bin)
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = h.bed.cfg.runTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := h.Command(ctx, bin, args...)
	cmd.Env = h.environ(opts.Env)
	cmd.Stdin = opts.Stdin
	// Files rather than pipes: a command that leaves a daemon behind
	// (cupsd forks) would keep a pipe open and Wait would hang on it.
	outFile, errFile := h.tempOutput(t, "out"), h.tempOutput(t, "err")
	defer os.Remove(outFile.Name())
	defer os.Remove(errFile.Name())
	defer outFile.Close()
	defer errFile.Close()
	cmd.Stdout, cmd.Stderr = outFile, errFile
	err := cmd.Run()
	stdout, stderr = readAll(outFile), readAll(errFile)
	line := h.Name + ": " + strings.Join(append([]string{filepath.Base(bin)}, args...), " ")
	switch {
	case ctx.Err() != nil:
		t.Fatalf("netns: %s: timed out after %v\nstdout:\n%s\nstderr:\n%s", line, timeout, stdout, stderr)
	case err != nil && cmd.ProcessState == nil:
		t.Fatalf("netns: %s: %v", line, err)
	}
	return stdout, stderr, cmd.ProcessState.ExitCode()
}

func (h *Host) tempOutput(t testing.TB, what string) *os.File {
	t.Helper()
	f, err := os.CreateTemp(h.bed.Dir, h.Name+"-run-*."+what)
	if err != nil {
		t.Fatalf("netns: %v", err)
	}
	return f
}

func readAll(f *os.File) string {
	data, err := os.ReadFile(f.Name())
	if err != nil {
		return fmt.Sprintf("(unreadable: %v)", err)
	}
	return string(data)
}

// resolve turns bin into an absolute path now, so that a missing binary
// fails with a clear message instead of `ip netns exec` exiting 255.
func resolve(t testing.TB, bin string) string {
	t.Helper()
	path, err := exec.LookPath(bin)
	if err != nil {
		t.Fatalf("netns: %v", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatalf("netns: %v", err)
	}
	return abs
}

func killGroup(pid int) error {
	err := syscall.Kill(-pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return os.ErrProcessDone
	}
	return err
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "[... " + strconv.Itoa(len(s)-n) + " bytes cut ...]\n" + s[len(s)-n:]
}
