package cli

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/peerdesk/peerdesk/node"
	"github.com/peerdesk/peerdesk/shares/remote"
)

// The printer commands put a colleague's shared printer into this PC's
// print system (node/printqueues.go); they need the running peer, which
// serves the printer.

func (c *cli) printerGroup(args []string) error {
	if len(args) == 0 {
		return usagef("printer: want `printer add PEER:PRINTER`, `printer list` or `printer rm QUEUE`")
	}
	return usagef("printer: unknown subcommand %q", args[0])
}

func (c *cli) printerAdd(args []string) error {
	fs := flag.NewFlagSet("printer add", flag.ContinueOnError)
	rf := addRemoteFlags(fs)
	asJSON := fs.Bool("json", false, "machine-readable output: {\"queue\",\"uri\"}")
	pos, err := parseFlags(fs, args, 1, 1, "printer add PEER:PRINTER [--user U] [--json]")
	if err != nil {
		return err
	}
	rp, err := remote.ParsePath(pos[0])
	if err != nil {
		return err
	}
	cr, err := c.creds(rf)
	if err != nil {
		return err
	}
	var added node.AddedPrinterInfo
	if err := c.askLong(func(ctx context.Context, lc node.LocalClient) (err error) {
		added, err = lc.AddPrinter(ctx, node.PrinterAddArgs{Target: rp, Creds: cr})
		return
	}); err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(c.stdout, struct {
			Queue string `json:"queue"`
			URI   string `json:"uri"`
		}{added.Queue, added.URI})
	}
	fmt.Fprintf(c.stdout, "Added %s:%s as printer %q (%s). Every program's print dialog lists it now.\n",
		added.PeerName, added.Printer, added.Queue, added.URI)
	return nil
}

func (c *cli) printerList(args []string) error {
	fs := flag.NewFlagSet("printer list", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "machine-readable output")
	if _, err := parseFlags(fs, args, 0, 0, "printer list [--json]"); err != nil {
		return err
	}
	var list []node.AddedPrinterInfo
	if err := c.askLong(func(ctx context.Context, lc node.LocalClient) (err error) { list, err = lc.AddedPrinters(ctx); return }); err != nil {
		return err
	}
	if list == nil {
		list = []node.AddedPrinterInfo{}
	}
	if *asJSON {
		return writeJSON(c.stdout, list)
	}
	if len(list) == 0 {
		fmt.Fprintln(c.stdout, "No printers of other PCs added. Add one with: peerdesk printer add PEER:PRINTER")
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "QUEUE\tPRINTER\tSTATE\tMESSAGE")
	for _, p := range list {
		fmt.Fprintf(tw, "%s\t%s:%s\t%s\t%s\n", p.Queue, p.PeerName, p.Printer, p.State, orDash(p.Message))
	}
	return tw.Flush()
}

func (c *cli) printerRm(args []string) error {
	fs := flag.NewFlagSet("printer rm", flag.ContinueOnError)
	pos, err := parseFlags(fs, args, 1, 1, "printer rm QUEUE|PEER:PRINTER")
	if err != nil {
		return err
	}
	return c.askLong(func(ctx context.Context, lc node.LocalClient) error { return lc.RemovePrinter(ctx, pos[0]) })
}
