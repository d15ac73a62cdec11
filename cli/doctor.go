package cli

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/peerdesk/peerdesk/node"
)

// doctor runs the running peer's network check and prints it; problems
// make the exit status 1.
func (c *cli) doctor(args []string) error {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "machine-readable output")
	if _, err := parseFlags(fs, args, 0, 0, "doctor [--json]"); err != nil {
		return err
	}
	var r node.DoctorReport
	if err := c.askOrOffline(60*time.Second, func(ctx context.Context, lc node.LocalClient) (err error) { r, err = lc.Doctor(ctx); return }, nil); err != nil {
		return err
	}
	if *asJSON {
		if err := writeJSON(c.stdout, r); err != nil {
			return err
		}
	} else {
		fmt.Fprint(c.stdout, r.Text())
	}
	if !r.Healthy {
		return fmt.Errorf("%d network problem(s) found", len(r.Problems))
	}
	return nil
}
