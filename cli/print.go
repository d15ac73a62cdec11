package cli

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/peerdesk/peerdesk/node"
	"github.com/peerdesk/peerdesk/printing"
	"github.com/peerdesk/peerdesk/shares/remote"
)

// printers lists this machine's print queues, or with PEER that peer's
// shared printers with their state.
func (c *cli) printers(args []string) error {
	fs := flag.NewFlagSet("printers", flag.ContinueOnError)
	rf := addRemoteFlags(fs)
	asJSON := fs.Bool("json", false, "machine-readable output")
	pos, err := parseFlags(fs, args, 0, 1, "printers [PEER] [--user U] [--json]")
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return c.localPrinters(*asJSON)
	}
	cr, err := c.creds(rf)
	if err != nil {
		return err
	}
	var list []node.PrinterInfo
	if err := c.askLong(func(ctx context.Context, lc node.LocalClient) (err error) {
		list, err = lc.Printers(ctx, node.PrintersArgs{Peer: pos[0], Creds: cr})
		return
	}); err != nil {
		return err
	}
	if list == nil {
		list = []node.PrinterInfo{}
	}
	if *asJSON {
		return writeJSON(c.stdout, list)
	}
	if len(list) == 0 {
		fmt.Fprintf(c.stdout, "%s shares no printer you may print on.\n", pos[0])
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PRINTER\tSTATE\tFORMATS\tMESSAGE")
	for _, p := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.Name, p.State, formatNames(p.Formats), orDash(p.Message))
	}
	return tw.Flush()
}

// localPrinters lists the local queues, through the running peer or, with
// none running, straight from the spooler.
func (c *cli) localPrinters(asJSON bool) error {
	var list []printing.Queue
	err := c.askOrOffline(30*time.Second, func(ctx context.Context, lc node.LocalClient) (err error) { list, err = lc.LocalPrinters(ctx); return }, func(*node.State) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var err error
		list, err = node.LocalPrinters(ctx)
		return err
	})
	if err != nil {
		return err
	}
	if list == nil {
		list = []printing.Queue{}
	}
	if asJSON {
		return writeJSON(c.stdout, list)
	}
	if len(list) == 0 {
		fmt.Fprintln(c.stdout, "No local printers.")
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "QUEUE\tSTATE\tACCEPTING\tMESSAGE")
	for _, q := range list {
		fmt.Fprintf(tw, "%s\t%s\t%t\t%s\n", q.Name, q.State, q.Accepting, orDash(q.Message))
	}
	return tw.Flush()
}

// print sends a file to a peer's shared printer; --wait follows the job
// and fails unless it completed.
func (c *cli) print(args []string) error {
	fs := flag.NewFlagSet("print", flag.ContinueOnError)
	rf := addRemoteFlags(fs)
	asJSON := fs.Bool("json", false, "machine-readable output")
	copies := fs.Int("copies", 1, "number of copies")
	wait := fs.Bool("wait", false, "follow the job until it is printed (exit non-zero if it fails)")
	timeout := fs.Duration("timeout", 0, "with --wait: give up following after this long (e.g. 2m; default: until the job ends)")
	pos, err := parseFlags(fs, args, 2, 2, "print PEER:PRINTER FILE [--copies N] [--wait [--timeout D]] [--user U] [--json]")
	if err != nil {
		return err
	}
	rp, err := remote.ParsePath(pos[0])
	if err != nil {
		return err
	}
	if rp.Share == "" || rp.Path != "" {
		return usagef("print: want PEER:PRINTER, not %q", pos[0])
	}
	if *copies < 1 || *copies > printing.MaxCopies {
		return usagef("print: --copies must be between 1 and %d", printing.MaxCopies)
	}
	if *timeout < 0 || (*timeout > 0 && !*wait) {
		return usagef("print: --timeout needs --wait and a positive duration")
	}
	files, err := absAll(pos[1:])
	if err != nil {
		return err
	}
	cr, err := c.creds(rf)
	if err != nil {
		return err
	}
	var job node.PrintJob
	onEvent := func(j node.PrintJob) {
		if !*wait || j.JobID == 0 {
			return
		}
		// While following, the state changes go to stderr, so stdout
		// keeps the one result.
		fmt.Fprintf(c.stderr, "job %d on %s:%s: %s%s\n", j.JobID, j.Peer, j.Printer, j.State, parens(j.Message))
	}
	err = c.askLong(func(ctx context.Context, lc node.LocalClient) (err error) {
		job, err = lc.Print(ctx, node.PrintArgs{Target: rp, File: files[0], Creds: cr,
			PrintOptions: node.PrintOptions{Copies: *copies, Wait: *wait}, WaitTimeout: *timeout}, onEvent)
		return
	})
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(c.stdout, job)
	}
	fmt.Fprintf(c.stdout, "%s → %s:%s: job %d %s%s\n", filepath.Base(files[0]), job.Peer, job.Printer, job.JobID, job.State, parens(job.Message))
	return nil
}

func parens(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// formatNames shortens MIME types for the table: application/pdf → pdf.
func formatNames(formats []string) string {
	if len(formats) == 0 {
		return "-"
	}
	out := make([]string, len(formats))
	for i, f := range formats {
		_, sub, _ := strings.Cut(f, "/")
		out[i] = strings.TrimPrefix(strings.TrimPrefix(sub, "vnd."), "x-")
	}
	return strings.Join(out, ",")
}
