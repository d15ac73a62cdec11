//go:build !nogui

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
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
	log := newLogger(c.stderr)
	slog.SetDefault(log)

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
	runErr := app.Run(n, app.Options{Logger: log, Done: ctx.Done(), Version: version})
	log.Info("stopping")
	return errors.Join(runErr, n.Close())
}

// handOff asks the app already running for this home to show its window.
func (c *cli) handOff() error {
	err := c.call(app.OpShow, nil, nil, 5*time.Second)
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
