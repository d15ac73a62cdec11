package discovery

import (
	"context"
	"log/slog"
	"time"

	"golang.org/x/sys/unix"
)

// watchInterfaceChanges signals notes on every link or address change the
// kernel reports over netlink; stop closes the socket. notified is false
// if netlink is not available (the watcher polls then); after a read
// error (none is expected) it signals notes every rescanEvery instead.
func watchInterfaceChanges(ctx context.Context, log *slog.Logger, notes chan<- struct{}) (stop func(), notified bool) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		log.Debug("netlink unavailable; polling interfaces", "err", err)
		return func() {}, false
	}
	sa := &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: unix.RTMGRP_LINK | unix.RTMGRP_IPV4_IFADDR | unix.RTMGRP_IPV6_IFADDR}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		log.Debug("netlink bind failed; polling interfaces", "err", err)
		return func() {}, false
	}
	// A receive timeout lets the reader see ctx end: closing a socket
	// does not wake a read blocked on it.
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 500_000})
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer unix.Close(fd)
		buf := make([]byte, 16<<10)
		for ctx.Err() == nil {
			// The messages' contents do not matter: any change means a rescan.
			_, _, err := unix.Recvfrom(fd, buf, 0)
			switch err {
			case nil, unix.ENOBUFS: // ENOBUFS: changes were lost, so rescan too
				notify(notes)
			case unix.EAGAIN, unix.EINTR:
			default:
				// Not expected; the notes come from polling from now on.
				log.Warn("netlink read failed; polling interfaces", "err", err)
				poll := time.NewTicker(rescanEvery)
				defer poll.Stop()
				for {
					notify(notes)
					select {
					case <-ctx.Done():
						return
					case <-poll.C:
					}
				}
			}
		}
	}()
	return func() { <-done }, true
}
