package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/control"
	"github.com/peerdesk/peerdesk/internal/human"
	"github.com/peerdesk/peerdesk/node"
)

// Environment variables that carry passwords (never a plain flag value:
// flags show up in `ps` and shell history).
const (
	envPassword      = "PEERDESK_PASSWORD"
	envSharePassword = "PEERDESK_SHARE_PASSWORD"
)

// multiFlag collects a repeated flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// passwordSource reads a secret from, in order: the --password-file,
// the environment variable, or a no-echo prompt on a terminal.
type passwordSource struct {
	file string
	env  string
	// confirm asks twice on a terminal (setting a new password).
	confirm bool
	prompt  string
	stdin   io.Reader
	stderr  io.Writer
}

func (p passwordSource) read() (string, error) {
	if p.file != "" {
		b, err := os.ReadFile(p.file)
		if err != nil {
			return "", fmt.Errorf("password file: %w", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		return strings.TrimRight(line, "\r"), nil
	}
	if v, ok := os.LookupEnv(p.env); ok {
		return v, nil
	}
	f, ok := p.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", fmt.Errorf("%w: no password given: set %s, use --password-file FILE, or run on a terminal to be asked", node.ErrUsage, p.env)
	}
	ask := func(prompt string) (string, error) {
		fmt.Fprint(p.stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(p.stderr)
		return string(b), err
	}
	pw, err := ask(p.prompt + ": ")
	if err != nil {
		return "", err
	}
	if p.confirm {
		again, err := ask("Again: ")
		if err != nil {
			return "", err
		}
		if again != pw {
			return "", fmt.Errorf("%w: the passwords differ", node.ErrUsage)
		}
	}
	return pw, nil
}

func (c *cli) passwords(file, env, prompt string, confirm bool) passwordSource {
	return passwordSource{file: file, env: env, prompt: prompt, confirm: confirm, stdin: c.stdinOrOS(), stderr: c.stderr}
}

func (c *cli) stdinOrOS() io.Reader {
	if c.stdin != nil {
		return c.stdin
	}
	return os.Stdin
}

func (c *cli) user(args []string) error {
	if len(args) == 0 {
		return usagef("user: want `user add|passwd|rm|list`")
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("user "+sub, flag.ContinueOnError)
	pwFile := fs.String("password-file", "", "read the password from the first line of this file")
	asJSON := fs.Bool("json", false, "machine-readable output")
	switch sub {
	case "add", "passwd":
		pos, err := parseFlags(fs, args, 1, 1, "user "+sub+" NAME [--password-file F]  (or PEERDESK_PASSWORD, or a prompt)")
		if err != nil {
			return err
		}
		if err := access.ValidUsername(pos[0]); err != nil {
			return fmt.Errorf("%w: %v", node.ErrUsage, err)
		}
		pw, err := c.passwords(*pwFile, envPassword, "Password for "+pos[0], true).read()
		if err != nil {
			return err
		}
		a := node.UserArgs{Name: pos[0], Password: pw}
		online, local := node.LocalClient.AddUser, (*node.State).AddUser
		if sub == "passwd" {
			online, local = node.LocalClient.SetUserPassword, (*node.State).SetUserPassword
		}
		if err := c.askOrOffline(10*time.Second, func(ctx context.Context, lc node.LocalClient) error { return online(lc, ctx, a) },
			func(st *node.State) error { return local(st, a) }); err != nil {
			return err
		}
		if sub == "add" {
			fmt.Fprintf(c.stdout, "account %s added\n", pos[0])
		} else {
			fmt.Fprintf(c.stdout, "password of %s changed\n", pos[0])
		}
		return nil
	case "rm", "remove":
		pos, err := parseFlags(fs, args, 1, 1, "user rm NAME")
		if err != nil {
			return err
		}
		a := node.UserArgs{Name: pos[0]}
		return c.askOrOffline(10*time.Second, func(ctx context.Context, lc node.LocalClient) error { return lc.RemoveUser(ctx, a) }, func(st *node.State) error { return st.RemoveUser(a) })
	case "list", "ls":
		if _, err := parseFlags(fs, args, 0, 0, "user list [--json]"); err != nil {
			return err
		}
		var list []access.AccountInfo
		err := c.askOrOffline(5*time.Second, func(ctx context.Context, lc node.LocalClient) (err error) { list, err = lc.Users(ctx); return }, func(st *node.State) error {
			list = st.Accounts.List()
			return nil
		})
		if err != nil {
			return err
		}
		if list == nil {
			list = []access.AccountInfo{}
		}
		if *asJSON {
			return writeJSON(c.stdout, list)
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ACCOUNT\tCREATED\tPASSWORD CHANGED")
		for _, a := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", a.Name, a.Created.Local().Format(time.DateTime), a.PasswordChanged.Local().Format(time.DateTime))
		}
		return tw.Flush()
	}
	return usagef("user: unknown subcommand %q (want add, passwd, rm, list)", sub)
}

func (c *cli) share(args []string) error {
	if len(args) == 0 {
		return usagef("share: want `share folder|printer|list|rm|pause|resume`")
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("share "+sub, flag.ContinueOnError)
	pwFile := fs.String("password-file", "", "read the share password from the first line of this file")
	withPassword := fs.Bool("password", false, "protect the share with a password (PEERDESK_SHARE_PASSWORD, --password-file or a prompt)")
	var allow multiFlag
	switch sub {
	case "folder":
		fs.Var(&allow, "allow", "let an account in: USER[:ro|rw|wo] (repeatable)")
		rw := fs.Bool("rw", false, "accounts named without a right get read-write (default read-only)")
		guest := fs.String("guest", "", "let peers in without an account: ro, rw or wo")
		pos, err := parseFlags(fs, args, 2, 2, "share folder NAME PATH [--rw] [--allow USER[:ro|rw|wo]]... [--guest ro|rw|wo] [--password]")
		if err != nil {
			return err
		}
		def := "ro"
		if *rw {
			def = "rw"
		}
		acl, err := node.ParseAllow(allow, def)
		if err != nil {
			return err
		}
		a := node.FolderShareArgs{Name: pos[0], Path: absPath(pos[1]), Allow: acl, Guest: *guest}
		if *withPassword || *pwFile != "" {
			if a.Password, err = c.passwords(*pwFile, envSharePassword, "Password for share "+pos[0], true).read(); err != nil {
				return err
			}
		}
		var info access.ShareInfo
		if err := c.askOrOffline(10*time.Second, func(ctx context.Context, lc node.LocalClient) (err error) { info, err = lc.ShareFolder(ctx, a); return }, func(st *node.State) error {
			var err error
			info, err = st.AddFolderShare(a)
			return err
		}); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "sharing %s as %s\n", info.Path, info.Name)
		return nil
	case "printer":
		fs.Var(&allow, "allow", "let an account print (repeatable)")
		guest := fs.Bool("guest", false, "let peers print without an account")
		pos, err := parseFlags(fs, args, 2, 2, "share printer NAME QUEUE [--allow USER]... [--guest] [--password]")
		if err != nil {
			return err
		}
		a := node.PrinterShareArgs{Name: pos[0], Queue: pos[1], Allow: allow, Guest: *guest}
		if *withPassword || *pwFile != "" {
			if a.Password, err = c.passwords(*pwFile, envSharePassword, "Password for printer "+pos[0], true).read(); err != nil {
				return err
			}
		}
		var info access.ShareInfo
		if err := c.askOrOffline(10*time.Second, func(ctx context.Context, lc node.LocalClient) (err error) {
			info, err = lc.SharePrinter(ctx, a)
			return
		}, func(st *node.State) error {
			var err error
			info, err = st.AddPrinterShare(a)
			return err
		}); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "sharing printer %s as %s\n", info.Queue, info.Name)
		return nil
	case "list", "ls":
		asJSON := fs.Bool("json", false, "machine-readable output")
		if _, err := parseFlags(fs, args, 0, 0, "share list [--json]"); err != nil {
			return err
		}
		var list []access.ShareInfo
		if err := c.askOrOffline(5*time.Second, func(ctx context.Context, lc node.LocalClient) (err error) { list, err = lc.Shares(ctx); return }, func(st *node.State) error {
			list = st.Shares.Infos()
			return nil
		}); err != nil {
			return err
		}
		if list == nil {
			list = []access.ShareInfo{}
		}
		if *asJSON {
			return writeJSON(c.stdout, list)
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SHARE\tKIND\tFOLDER/QUEUE\tACCESS\tGUEST\tPASSWORD")
		for _, s := range list {
			where := s.Path
			if s.Kind == access.KindPrinter {
				where = s.Queue
			}
			pw := "no"
			if s.Password {
				pw = "yes"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.Kind, where, formatAccess(s.Access), s.Guest, pw)
		}
		return tw.Flush()
	case "rm", "remove":
		pos, err := parseFlags(fs, args, 1, 1, "share rm NAME")
		if err != nil {
			return err
		}
		return c.askOrOffline(5*time.Second, func(ctx context.Context, lc node.LocalClient) error { return lc.RemoveShare(ctx, pos[0]) }, func(st *node.State) error {
			return st.RemoveShare(pos[0])
		})
	case "pause", "resume":
		// What the tray's "Pause sharing" does, for a headless peer: other
		// peers are refused until resumed or the peer restarts.
		if _, err := parseFlags(fs, args, 0, 0, "share "+sub); err != nil {
			return err
		}
		paused := sub == "pause"
		err := c.ask(5*time.Second, func(ctx context.Context, lc node.LocalClient) error { return lc.PauseSharing(ctx, paused) })
		if errors.Is(err, control.ErrNotRunning) {
			return notRunningHint()
		}
		if err != nil {
			return err
		}
		if paused {
			fmt.Fprintln(c.stdout, "sharing paused: other peers are refused until `peerdesk share resume`")
		} else {
			fmt.Fprintln(c.stdout, "sharing resumed")
		}
		return nil
	}
	return usagef("share: unknown subcommand %q (want folder, printer, list, rm, pause, resume)", sub)
}

func formatAccess(acl map[string]access.Right) string {
	if len(acl) == 0 {
		return "-"
	}
	users := make([]string, 0, len(acl))
	for u := range acl {
		users = append(users, u)
	}
	sort.Strings(users)
	parts := make([]string, len(users))
	for i, u := range users {
		parts[i] = u + ":" + string(acl[u])
	}
	return strings.Join(parts, ",")
}

func absPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

func (c *cli) settings(args []string) error {
	if len(args) > 0 && args[0] == "set" {
		fs := flag.NewFlagSet("settings set", flag.ContinueOnError)
		pos, err := parseFlags(fs, args[1:], 2, 2, "settings set name|port|inbox|auto-accept|upload-limit|download-limit|background VALUE")
		if err != nil {
			return err
		}
		return c.askOrOffline(5*time.Second, func(ctx context.Context, lc node.LocalClient) error { return lc.SetSetting(ctx, pos[0], pos[1]) }, func(st *node.State) error {
			return st.SetSetting(pos[0], pos[1])
		})
	}
	fs := flag.NewFlagSet("settings", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "machine-readable output")
	if _, err := parseFlags(fs, args, 0, 0, "settings [--json] | settings set KEY VALUE"); err != nil {
		return err
	}
	var v node.SettingsView
	if err := c.askOrOffline(5*time.Second, func(ctx context.Context, lc node.LocalClient) (err error) { v, err = lc.Settings(ctx); return }, func(st *node.State) error {
		v = node.SettingsView{Settings: st.Settings, InboxDir: st.InboxDir()}
		return nil
	}); err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(c.stdout, v)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "name\t%s\nport\t%d\ninbox\t%s\nauto-accept\t%v\nupload-limit\t%s\ndownload-limit\t%s\nbackground\t%v\n",
		v.Name, v.Port, v.InboxDir, v.AutoAccept, human.Rate(v.UploadLimit), human.Rate(v.DownloadLimit), v.Background)
	return tw.Flush()
}
