package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/control"
	"github.com/peerdesk/peerdesk/internal/human"
	"github.com/peerdesk/peerdesk/node"
	"github.com/peerdesk/peerdesk/shares"
	"github.com/peerdesk/peerdesk/shares/remote"
	"github.com/peerdesk/peerdesk/shares/transfer"
	"github.com/peerdesk/peerdesk/transport"
)

// remoteFlags are the credential flags of every command that reaches into
// another peer's shares.
type remoteFlags struct {
	user         *string
	passwordFile *string
	sharePWFile  *string
}

func addRemoteFlags(fs *flag.FlagSet) remoteFlags {
	return remoteFlags{
		user:         fs.String("user", "", "account on the other peer (default $PEERDESK_USER; none: guest)"),
		passwordFile: fs.String("password-file", "", "read the account password from this file"),
		sharePWFile:  fs.String("share-password-file", "", "read the share password from this file"),
	}
}

// creds gathers the credentials: the account's password from the
// environment, a file or a prompt; the share password only if given.
func (c *cli) creds(f remoteFlags) (node.Creds, error) {
	user := *f.user
	if user == "" {
		user = os.Getenv("PEERDESK_USER")
	}
	var cr node.Creds
	if user != "" && user != access.GuestUser {
		pw, err := c.passwords(*f.passwordFile, envPassword, "Password of "+user, false).read()
		if err != nil {
			return cr, err
		}
		cr.User, cr.Password = user, pw
	}
	if *f.sharePWFile != "" {
		pw, err := c.passwords(*f.sharePWFile, envSharePassword, "", false).read()
		if err != nil {
			return cr, err
		}
		cr.SharePassword = pw
	} else if v, ok := os.LookupEnv(envSharePassword); ok {
		cr.SharePassword = v
	}
	return cr, nil
}

// askLong runs a long request of the running peer (a transfer, a print
// job followed): Ctrl-C cancels it.
func (c *cli) askLong(fn func(context.Context, node.LocalClient) error) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := fn(ctx, node.LocalClient{Home: c.home})
	if errors.Is(err, control.ErrNotRunning) {
		return notRunningHint()
	}
	if errors.Is(err, control.ErrLost) {
		return fmt.Errorf("%w; run the command again to resume", err)
	}
	return err
}

// progressBars draws one bar per transfer on a terminal's stderr and
// nothing elsewhere.
type progressBars struct {
	enabled bool
	w       *os.File
	bars    map[string]*progressbar.ProgressBar
}

func (c *cli) newProgress() *progressBars {
	f, ok := c.stderr.(*os.File)
	return &progressBars{enabled: ok && term.IsTerminal(int(f.Fd())), w: f, bars: map[string]*progressbar.ProgressBar{}}
}

func (p *progressBars) event(info node.Progress) {
	if !p.enabled || info.ID == "" {
		return
	}
	bar := p.bars[info.ID]
	if bar == nil {
		bar = progressbar.NewOptions64(info.Total,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(filepath.Base(info.Path)),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
		p.bars[info.ID] = bar
	}
	_ = bar.Set64(info.Bytes)
	if info.State != "running" {
		_ = bar.Finish()
		delete(p.bars, info.ID)
	}
}

func (c *cli) ls(args []string) error {
	fs := flag.NewFlagSet("ls", flag.ContinueOnError)
	rf := addRemoteFlags(fs)
	asJSON := fs.Bool("json", false, "machine-readable output")
	all := fs.Bool("a", false, "show hidden files; with PEER alone, also the shares you may not open (right none: log in with another account)")
	pos, err := parseFlags(fs, args, 1, 1, "ls PEER[:SHARE[/PATH]] [--json] [--user U]")
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
	var l remote.Listing
	if err := c.askLong(func(ctx context.Context, lc node.LocalClient) (err error) {
		l, err = lc.Ls(ctx, node.LsArgs{Target: rp, Creds: cr, Hidden: *all})
		return
	}); err != nil {
		return err
	}
	if rp.Share == "" {
		if l.Shares == nil {
			l.Shares = []access.VisibleShare{}
		}
		if *asJSON {
			return writeJSON(c.stdout, l.Shares)
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SHARE\tKIND\tRIGHT\tPASSWORD")
		for _, s := range l.Shares {
			pw := ""
			if s.Password {
				pw = "needs share password"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Name, s.Kind, s.Right, pw)
		}
		return tw.Flush()
	}
	if l.Entries == nil {
		l.Entries = []shares.Entry{}
	}
	if *asJSON {
		return writeJSON(c.stdout, l.Entries)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	for _, e := range l.Entries {
		name, size := e.Name, human.Bytes(e.Size)
		if e.Dir {
			name, size = e.Name+"/", "-"
		}
		fmt.Fprintf(tw, "%s\t  %s\t  %s\n", size, e.Mtime.Local().Format("2006-01-02 15:04"), name)
	}
	return tw.Flush()
}

func (c *cli) get(args []string) error {
	fs := flag.NewFlagSet("get", flag.ContinueOnError)
	rf := addRemoteFlags(fs)
	asJSON := fs.Bool("json", false, "machine-readable output")
	replace := fs.Bool("replace", false, "overwrite a local file of the same name (default: keep it, save as \"name (1).ext\")")
	single := fs.Bool("single-source", false, "fetch only from the named peer, not from others holding the same file")
	pos, err := parseFlags(fs, args, 1, 2, "get PEER:SHARE/PATH [DEST] [--user U] [--replace] [--json]")
	if err != nil {
		return err
	}
	rp, err := remote.ParsePath(pos[0])
	if err != nil {
		return err
	}
	dest := "."
	if len(pos) == 2 {
		dest = pos[1]
	}
	abs, err := filepath.Abs(dest)
	if err != nil {
		return err
	}
	if strings.HasSuffix(dest, "/") || strings.HasSuffix(dest, string(filepath.Separator)) {
		abs += string(filepath.Separator)
	}
	cr, err := c.creds(rf)
	if err != nil {
		return err
	}
	var res remote.GetResult
	bars := c.newProgress()
	err = c.askLong(func(ctx context.Context, lc node.LocalClient) (err error) {
		res, err = lc.Get(ctx, node.GetArgs{Source: rp, Creds: cr, GetOptions: remote.GetOptions{Dest: abs, Replace: *replace, SingleSource: *single}}, bars.event)
		return
	})
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(c.stdout, res)
	}
	for _, f := range res.Files {
		extra := ""
		if f.Resumed > 0 {
			extra = fmt.Sprintf(", resumed from %s", human.Bytes(f.Resumed))
		}
		if len(f.PerSource) > 1 {
			extra += fmt.Sprintf(", from %d peers", len(f.PerSource))
		}
		fmt.Fprintf(c.stdout, "%s (%s, SHA-256 verified%s)\n", f.Path, human.Bytes(f.Size), extra)
		for _, d := range f.Dropped {
			fmt.Fprintf(c.stderr, "warning: %s sent bytes that do not match the owner's file and was left out; the file came from the others\n", d)
		}
	}
	if res.Seconds > 0 && res.Fetched > 0 {
		fmt.Fprintf(c.stdout, "%d file(s), %s in %.1fs (%.1f MB/s)\n", len(res.Files), human.Bytes(res.Bytes), res.Seconds, float64(res.Fetched)/res.Seconds/1e6)
	}
	return nil
}

func (c *cli) put(args []string) error {
	fs := flag.NewFlagSet("put", flag.ContinueOnError)
	rf := addRemoteFlags(fs)
	asJSON := fs.Bool("json", false, "machine-readable output")
	replace := fs.Bool("replace", false, "overwrite a file of the same name on the peer")
	pos, err := parseFlags(fs, args, 2, -1, "put LOCAL... PEER:SHARE/DIR [--user U] [--replace]")
	if err != nil {
		return err
	}
	rp, err := remote.ParsePath(pos[len(pos)-1])
	if err != nil {
		return err
	}
	locals, err := absAll(pos[:len(pos)-1])
	if err != nil {
		return err
	}
	cr, err := c.creds(rf)
	if err != nil {
		return err
	}
	var res []remote.PutResult
	bars := c.newProgress()
	if err := c.askLong(func(ctx context.Context, lc node.LocalClient) (err error) {
		res, err = lc.Put(ctx, node.PutArgs{Locals: locals, Target: rp, Creds: cr, Replace: *replace}, bars.event)
		return
	}); err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(c.stdout, res)
	}
	for _, r := range res {
		fmt.Fprintf(c.stdout, "%s → %s:%s/%s (%s)\n", r.Local, rp.Peer, rp.Share, r.Remote, human.Bytes(r.Size))
	}
	return nil
}

func absAll(paths []string) ([]string, error) {
	out := make([]string, len(paths))
	for i, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		if _, err := os.Lstat(abs); err != nil {
			return nil, err
		}
		out[i] = abs
	}
	return out, nil
}

func (c *cli) send(args []string) error {
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "machine-readable output")
	queue := fs.Bool("queue", false, "if PEER is offline, queue the files and send them when it is back (see `peerdesk transfers`)")
	pos, err := parseFlags(fs, args, 1, -1, "send [PEER] FILE... [--queue]")
	if err != nil {
		return err
	}
	// No peer named (every argument is a local file or folder, as the file
	// manager's "Send to" passes them, maybe as file:// URIs): the desktop
	// app asks which peer.
	for i, p := range pos {
		if u, err := url.Parse(p); err == nil && u.Scheme == "file" && u.Path != "" {
			pos[i] = filepath.FromSlash(u.Path)
		}
	}
	if allLocal(pos) {
		files, err := absAll(pos)
		if err != nil {
			return err
		}
		return c.sendToGUI(files)
	}
	if len(pos) < 2 {
		return usagef("send: %s is not a file or folder; usage: send [PEER] FILE...", pos[0])
	}
	files, err := absAll(pos[1:])
	if err != nil {
		return err
	}
	var res remote.SendResult
	bars := c.newProgress()
	if err := c.askLong(func(ctx context.Context, lc node.LocalClient) (err error) {
		res, err = lc.Send(ctx, node.SendArgs{Peer: pos[0], Files: files, Queue: *queue}, bars.event)
		return
	}); err != nil {
		if errors.Is(err, transport.ErrUnreachable) && !*queue {
			return fmt.Errorf("%w\nto send when it is back online: peerdesk send --queue %s FILE...", err, pos[0])
		}
		return err
	}
	if *asJSON {
		return writeJSON(c.stdout, res)
	}
	if res.Queued != "" {
		fmt.Fprintf(c.stdout, "%s is offline: %d item(s) queued (%s), sent when it is back online; `peerdesk transfers cancel %s` drops them\n", res.Receiver, len(files), res.Queued, res.Queued)
		return nil
	}
	fmt.Fprintf(c.stdout, "%s accepted %d file(s), %s\n", res.Receiver, len(res.Files), human.Bytes(res.Bytes))
	if res.SkippedHidden > 0 {
		fmt.Fprintf(c.stdout, "%d hidden file(s) left out (receivers do not accept hidden names)\n", res.SkippedHidden)
	}
	return nil
}

// allLocal reports whether every path names an existing file or folder.
func allLocal(paths []string) bool {
	for _, p := range paths {
		if _, err := os.Lstat(p); err != nil {
			return false
		}
	}
	return true
}

func (c *cli) search(args []string) error {
	fs := flag.NewFlagSet("search", flag.ContinueOnError)
	rf := addRemoteFlags(fs)
	peer := fs.String("peer", "", "the PC --user's account is on (the others are searched as guest)")
	asJSON := fs.Bool("json", false, "machine-readable output")
	pos, err := parseFlags(fs, args, 1, 1, "search PATTERN [--peer PEER --user U] [--json]")
	if err != nil {
		return err
	}
	cr, err := c.creds(rf)
	if err != nil {
		return err
	}
	var hits []remote.SearchHit
	if err := c.askLong(func(ctx context.Context, lc node.LocalClient) (err error) {
		hits, err = lc.Search(ctx, node.SearchArgs{Pattern: pos[0], Creds: cr, Peer: *peer})
		return
	}); err != nil {
		return err
	}
	if hits == nil {
		hits = []remote.SearchHit{}
	}
	if *asJSON {
		return writeJSON(c.stdout, hits)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PEER\tSHARE\tPATH\tSIZE")
	for _, h := range hits {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", h.Peer, h.Share, h.Path, human.Bytes(h.Size))
	}
	return tw.Flush()
}

func (c *cli) transfers(args []string) error {
	if len(args) > 0 && args[0] == "cancel" {
		fs := flag.NewFlagSet("transfers cancel", flag.ContinueOnError)
		pos, err := parseFlags(fs, args[1:], 1, 1, "transfers cancel ID")
		if err != nil {
			return err
		}
		err = c.ask(5*time.Second, func(ctx context.Context, lc node.LocalClient) error { return lc.CancelTransfer(ctx, pos[0]) })
		if errors.Is(err, control.ErrNotRunning) {
			return notRunningHint()
		}
		return err
	}
	fs := flag.NewFlagSet("transfers", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "machine-readable output")
	if _, err := parseFlags(fs, args, 0, 0, "transfers [--json]"); err != nil {
		return err
	}
	var list []node.Progress
	if err := c.askOrOffline(5*time.Second, func(ctx context.Context, lc node.LocalClient) (err error) { list, err = lc.Transfers(ctx); return }, func(st *node.State) error {
		list = transfer.NewManager(st.Home, nil).List()
		return nil
	}); err != nil {
		return err
	}
	if list == nil {
		list = []node.Progress{}
	}
	if *asJSON {
		return writeJSON(c.stdout, list)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tPEER\tFILE\tSTATE\tBYTES\tRATE\tSTARTED")
	for _, t := range list {
		state := string(t.State)
		if t.Error != "" {
			state += ": " + t.Error
		}
		if len(t.Dropped) > 0 {
			state += " (left out for wrong data: " + strings.Join(t.Dropped, ", ") + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s/%s\t%s/s\t%s\n", t.ID, t.Kind, t.Peer, t.Path, state,
			human.Bytes(t.Bytes), human.Bytes(t.Total), human.Bytes(int64(t.Rate)), t.Started.Local().Format(time.DateTime))
	}
	return tw.Flush()
}

func (c *cli) auditLog(args []string) error {
	fs := flag.NewFlagSet("log", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "machine-readable output")
	limit := fs.Int("n", 1000, "show the newest N records")
	if _, err := parseFlags(fs, args, 0, 0, "log [--json] [-n N]"); err != nil {
		return err
	}
	var recs []access.AuditRecord
	if err := c.askOrOffline(10*time.Second, func(ctx context.Context, lc node.LocalClient) (err error) { recs, err = lc.Log(ctx, *limit); return }, func(st *node.State) error {
		var err error
		recs, err = st.ReadAuditLog(*limit)
		return err
	}); err != nil {
		return err
	}
	if recs == nil {
		recs = []access.AuditRecord{}
	}
	if *asJSON {
		return writeJSON(c.stdout, recs)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tPEER\tACCOUNT\tACTION\tRESOURCE\tRESULT")
	for _, r := range recs {
		result := "allowed"
		if !r.Allowed {
			result = "REFUSED"
		}
		if r.Detail != "" {
			result += " (" + r.Detail + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Time.Local().Format(time.DateTime), firstNonEmptyStr(r.PeerName, r.PeerID), r.Account, r.Action, r.Resource, result)
	}
	return tw.Flush()
}

func firstNonEmptyStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
