package main

import (
	"context"
	"errors"
	"flag"
	"net"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/peerdesk/peerdesk/transport"
)

func init() {
	register("offer", "push-send offers of hidden names, one per name (low: hidden nested offer names)", offerNames)
}

// offerNames offers -victim one file under each comma-separated -names,
// from a fresh identity, and reports per name what the victim answered:
// "refused: <message>" or "accepted"/"declined".
func offerNames(ctx context.Context, args []string, out report) error {
	fs := flag.NewFlagSet("offer", flag.ContinueOnError)
	victim := fs.String("victim", "", "HOST:PORT")
	names := fs.String("names", ".ssh/authorized_keys,.profile,project/.git/hooks/pre-commit", "comma-separated names to offer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *victim == "" {
		return errors.New("want -victim HOST:PORT")
	}
	ep, _, err := endpoint(ctx, uuid.New(), net.JoinHostPort("0.0.0.0", "0"), nil)
	if err != nil {
		return err
	}
	defer ep.Close()
	answers := map[string]string{}
	for _, name := range strings.Split(*names, ",") {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		body := map[string]any{"total": 4, "files": []map[string]any{{"name": name, "size": 4, "sha256": strings.Repeat("0", 64)}}}
		var res struct {
			Accepted bool `json:"accepted"`
		}
		_, err := ep.Call(cctx, "", []string{*victim}, "send.offer", body, &res)
		cancel()
		var re *transport.RemoteError
		switch {
		case errors.As(err, &re):
			answers[name] = "refused: " + re.Message
		case err != nil:
			return err
		case res.Accepted:
			answers[name] = "accepted"
		default:
			answers[name] = "declined"
		}
	}
	out["answers"] = answers
	return nil
}
