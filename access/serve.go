package access

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"

	"github.com/peerdesk/peerdesk/transport"
)

// ServeErrors adapts fn to a transport handler: an error fn returns is sent
// as the (final) failure response. Only errors that public accepts travel
// with their message; the rest are logged here and reported as an internal
// error of owner, so nothing of this machine's layout (absolute paths,
// queue URIs) leaks. The printing service shares it.
func ServeErrors(log *slog.Logger, op, owner string, public func(error) bool, fn func(ctx context.Context, req transport.Request, s *transport.Stream) error) transport.HandlerFunc {
	return func(ctx context.Context, req transport.Request, s *transport.Stream) {
		err := fn(ctx, req, s)
		if err == nil {
			return
		}
		switch {
		case ctx.Err() != nil || IsDisconnect(err):
			log.Info("request interrupted", "op", op, "peer", s.Peer().ID, "err", err)
			err = fmt.Errorf("%w: %s interrupted", transport.ErrTruncated, op)
		case !public(err):
			log.Error("request failed", "op", op, "peer", s.Peer().ID, "err", err)
			err = fmt.Errorf("%s: internal error on %s (see its log)", op, owner)
		default:
			log.Debug("request refused", "op", op, "peer", s.Peer().ID, "err", err)
		}
		_ = s.Fail(err)
	}
}

// IsDisconnect reports an exchange that ended because the other side went
// away or gave up, rather than a failure here.
func IsDisconnect(err error) bool {
	var re *transport.RemoteError
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, transport.ErrClosed) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) || errors.As(err, &re)
}
