package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"time"

	"github.com/google/uuid"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/transport"
)

func init() {
	register("guess", "guess an account's password from many fresh identities (M1)", guessPasswords)
}

// guessPasswords logs in to -victim as -user with wrong passwords from
// -identities fresh identities in turn, for -for, and counts how the
// victim answered: checked (a wrong-password refusal, an argon2 run on the
// victim), rate-limited, or busy.
func guessPasswords(ctx context.Context, args []string, out report) error {
	fs := flag.NewFlagSet("guess", flag.ContinueOnError)
	victim := fs.String("victim", "", "HOST:PORT")
	user := fs.String("user", "alice", "account to guess")
	identities := fs.Int("identities", 60, "fresh identities to guess from")
	dur := fs.Duration("for", 20*time.Second, "how long to guess")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *victim == "" {
		return errors.New("want -victim HOST:PORT")
	}
	var eps []*transport.Endpoint
	defer func() {
		for _, ep := range eps {
			ep.Close()
		}
	}()
	for range *identities {
		ep, _, err := endpoint(ctx, uuid.New(), net.JoinHostPort("0.0.0.0", "0"), nil)
		if err != nil {
			return err
		}
		eps = append(eps, ep)
	}
	checked, limited, busy, other := 0, 0, 0, 0
	deadline := time.Now().Add(*dur)
	for i := 0; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
		ep := eps[i%len(eps)]
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		body := map[string]any{"auth": map[string]string{"user": *user, "password": fmt.Sprintf("guess-%d", i)}}
		_, err := ep.Call(cctx, "", []string{*victim}, "shares.list", body, nil)
		cancel()
		var re *transport.RemoteError
		switch {
		case errors.Is(err, access.ErrRateLimited):
			limited++
		case errors.Is(err, access.ErrBusy):
			busy++
		case errors.As(err, &re):
			checked++
		default:
			other++
		}
	}
	out["checked"], out["rate_limited"], out["busy"], out["other"] = checked, limited, busy, other
	out["seconds"] = dur.Seconds()
	return nil
}
