//go:build !nogui

package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/peerdesk/peerdesk/app"
	"github.com/peerdesk/peerdesk/control"
	"github.com/peerdesk/peerdesk/node"
)

// gui runs the desktop app, one per home: a second start hands over to the
// running one (its window comes to the front) and exits.
func (c *cli) gui(args []string) error {
	fs := flag.NewFlagSet("gui", flag.ContinueOnError)
	name := fs.String("name", "", "display name of this peer")
	port := fs.Int("port", 0, "UDP port to listen on")
	listen := fs.String("listen", "", "listen on this address only")
	noMDNS := fs.Bool("no-mdns", false, "do not use mDNS (peers must be added by address)")
	if _, err := parseFlags(fs, args, 0, 0, "gui [--name N] [--port P] [--listen HOST] [--no-mdns]"); err != nil {
		return err
	}
	if *port < 0 || *port > 65535 {
		return usagef("gui: --port must be 1-65535")
	}
	logw, closeLog := c.logWriter()
	defer closeLog()
	log := newLogger(logw)
	slog.SetDefault(log)
	defer heapProfileLater(log)()

	// The node lives until the app quits, not until the signal: Close says
	// goodbye to the other peers, which needs the node still running.
	n, err := node.Start(context.Background(), node.Config{Home: c.home, Name: *name, Port: *port, ListenHost: *listen, NoMDNS: *noMDNS, Logger: log})
	if errors.Is(err, node.ErrAlreadyRunning) {
		return c.handOff()
	}
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	quitting := make(chan struct{})
	defer bound(quitGrace, ctx.Done(), quitting, func() { stuckQuit(logw) })()
	runErr := app.Run(n, app.Options{Logger: log, Done: ctx.Done(), Version: Version, LogPath: c.logPath()})
	close(quitting)
	log.Info("stopping")
	return errors.Join(runErr, n.Close())
}

// quitGrace bounds quitting. Saying goodbye to the other peers and closing
// the node take well under a second; a quit that hangs (a bug, or the
// windowing library never returning) must not leave a process without a
// window behind that still holds the home and answers for it.
const quitGrace = 8 * time.Second

// bound calls stuck if quitting has not finished within grace of either
// channel closing (the signal, or the app's own Quit). The returned func
// ends the watch: call it when quitting is done.
func bound(grace time.Duration, signalled, quitting <-chan struct{}, stuck func()) (done func()) {
	finished := make(chan struct{})
	go func() {
		select {
		case <-signalled:
		case <-quitting:
		case <-finished:
			return
		}
		select {
		case <-finished:
		case <-time.After(grace):
			stuck()
		}
	}()
	return func() { close(finished) }
}

// stuckQuit writes every goroutine's stack to the log, for the bug report,
// and exits: the state is written atomically as it changes, so nothing is
// lost that a crash would not lose.
func stuckQuit(w io.Writer) {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	fmt.Fprintf(w, "peerdesk: quitting took over %v; exiting. Goroutines:\n%s\n", quitGrace, buf)
	os.Exit(3)
}

// handOff asks the app already running for this home to show its window.
func (c *cli) handOff() error {
	err := c.ask(5*time.Second, func(ctx context.Context, _ node.LocalClient) error { return app.Client{Home: c.home}.Show(ctx, "") })
	var ce *control.Error
	if errors.As(err, &ce) && ce.Code == "usage" {
		// The running peer does not know the op: it is a daemon.
		return fmt.Errorf("%w, headless (`peerdesk daemon`); stop it to open the desktop app for this home", node.ErrAlreadyRunning)
	}
	if err != nil {
		return fmt.Errorf("hand over to the running desktop app: %w", err)
	}
	return nil
}

// sendToGUI hands files to the desktop app of this home, which asks which
// peer to send them to (`peerdesk send FILE...` with no peer named). With
// no peer running it starts the desktop app, detached, and hands off once
// its control socket answers. A headless daemon cannot ask anyone: that is
// an error naming the command that can.
func (c *cli) sendToGUI(files []string) error {
	args := app.SendArgs{Files: files}
	err := c.handFiles(args)
	if errors.Is(err, control.ErrNotRunning) {
		if derr := app.CheckDisplay(); derr != nil {
			return fmt.Errorf("no peer runs for this home and there is no desktop to ask which peer on; name it: `peerdesk send PEER FILE...`: %w", derr)
		}
		exited, serr := c.startDetachedGUI()
		if serr != nil {
			return serr
		}
		err = c.retrySend(args, exited, 30*time.Second)
	}
	if isUnknownOp(err) {
		return fmt.Errorf("%w, headless (`peerdesk daemon`): name the peer, `peerdesk send PEER FILE...`", node.ErrAlreadyRunning)
	}
	if err != nil {
		return fmt.Errorf("hand the files to the desktop app: %w", err)
	}
	return nil
}

// retrySend repeats the hand-off while the app it started is coming up
// (no socket yet, the app's ops not yet added, or the window not yet
// showing), unless that app exits first.
func (c *cli) retrySend(args app.SendArgs, exited <-chan error, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		err := c.handFiles(args)
		if err == nil || time.Now().After(deadline) || !(errors.Is(err, control.ErrNotRunning) || isNotShowing(err) || isUnknownOp(err)) {
			return err
		}
		select {
		case werr := <-exited:
			return fmt.Errorf("the desktop app started for the files exited (%v); run `peerdesk gui` to see why", werr)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// handFiles asks the desktop app to raise its peer picker for files.
func (c *cli) handFiles(args app.SendArgs) error {
	return c.ask(5*time.Second, func(ctx context.Context, _ node.LocalClient) error { return app.Client{Home: c.home}.Send(ctx, args) })
}

// isUnknownOp: the running peer has no desktop app (a daemon) — or, just
// after we started one, its node answers before the app has added its ops.
func isUnknownOp(err error) bool { return errors.Is(err, node.ErrUnknownCommand) }

func isNotShowing(err error) bool { return errors.Is(err, app.ErrNotShowing) }

// startDetachedGUI starts `peerdesk gui` for this home in the background;
// it outlives this command. exited reports if it ends while this command
// still waits for it.
func (c *cli) startDetachedGUI() (exited <-chan error, err error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("start the desktop app: %w", err)
	}
	cmd := exec.Command(exe, "--home", c.home, "gui")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil
	// Its standard error is the log, where a crash's trace is then found.
	if err := node.PrivateHome(c.home); err == nil {
		if f, err := os.OpenFile(c.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err == nil {
			defer f.Close()
			cmd.Stderr = f
		}
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the desktop app: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	return done, nil
}
