package cli

import (
	"slices"

	"github.com/spf13/cobra"
)

// The command tree. Each command keeps its own flag parsing (parseFlags):
// cobra only routes, and generates the help, the shell completions and
// the man page from the tree, so every command, flag, output and exit
// status works as before.

// leaf describes one command that takes its own arguments.
type leaf struct {
	use, short, long, example string
	run                       func(args []string) error
	aliases                   []string
}

// commands builds the command tree of c.
func (c *cli) commands() *cobra.Command {
	root := &cobra.Command{
		Use:   "peerdesk",
		Short: "share folders, files and printers with the PCs of your office",
		Long: `Peerdesk shares folders, files and printers between the PCs of an office,
peer to peer: every PC runs the same app, finds the others on the network,
and guards each folder and printer with its own accounts and passwords.

With no command, peerdesk starts the desktop app. The commands below work
with the peer running for this home (the desktop app or ` + "`peerdesk daemon`" + `);
the ones that change this PC's accounts, shares and settings also work
when none runs.

PEER is a peer id, a unique id prefix (4+ characters) or a unique name.
The home is --home DIR, else $PEERDESK_HOME, else the user config folder.

Exit status: 0 ok, 1 error, 2 usage, 3 access denied, 4 not found,
5 peer identity changed or untrusted.`,
		Example: `  peerdesk user add alice
  peerdesk share folder docs ~/Documents/Office --allow alice:rw
  peerdesk peers
  peerdesk ls "Front desk:docs" --user alice
  peerdesk get "Front desk:docs/report.pdf" ~/Downloads --user alice
  peerdesk send "Front desk" minutes.pdf
  peerdesk print "Front desk:office" report.pdf --copies 2 --wait`,
		Args:                  cobra.ArbitraryArgs,
		SilenceErrors:         true,
		SilenceUsage:          true,
		DisableFlagsInUseLine: true,
		RunE: func(_ *cobra.Command, args []string) error {
			return usagef("unknown command %q (see `peerdesk help`)", args[0])
		},
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: false},
	}
	root.SetOut(c.stdout)
	root.SetErr(c.stderr)
	root.AddGroup(
		&cobra.Group{ID: "peers", Title: "Peers and trust:"},
		&cobra.Group{ID: "files", Title: "Files:"},
		&cobra.Group{ID: "print", Title: "Printing:"},
		&cobra.Group{ID: "setup", Title: "This PC's accounts, shares and settings:"},
		&cobra.Group{ID: "run", Title: "Running Peerdesk:"},
	)
	add := func(group string, parent *cobra.Command, l leaf) *cobra.Command {
		cmd := c.leafCommand(l)
		if parent == root {
			cmd.GroupID = group
		}
		parent.AddCommand(cmd)
		return cmd
	}

	add("run", root, leaf{use: "gui [--name N] [--port P] [--listen HOST] [--no-mdns]", short: "the desktop app (also when no command is given)", run: c.gui,
		example: "  peerdesk\n  peerdesk gui --name \"Front desk\""})
	add("run", root, leaf{use: "daemon [--name N] [--port P] [--listen HOST] [--no-mdns]", short: "run the peer headless until SIGINT/SIGTERM", run: c.daemon,
		long:    "Runs this PC's peer without a window: it announces itself, serves its shares and printers,\nand answers the other commands. PEERDESK_LOG=debug|info|warn|error sets the log level.",
		example: "  peerdesk daemon --name \"Front desk\""})
	transfers := add("run", root, leaf{use: "transfers [--json]", short: "running, queued and past transfers of the running peer", run: c.transfers})
	add("", transfers, leaf{use: "cancel ID", short: "stop a running transfer or drop a queued send", run: c.sub(c.transfers, "cancel"),
		example: "  peerdesk transfers cancel 3f2a9c1d"})
	add("run", root, leaf{use: "log [--json] [-n N]", short: "who did what on this peer: the audit log", run: c.auditLog,
		example: "  peerdesk log -n 20"})
	add("run", root, leaf{use: "version", short: "print the version", run: c.version})

	add("peers", root, leaf{use: "id [--json]", short: "this peer's id, name, fingerprint and verification code", run: c.id})
	add("peers", root, leaf{use: "peers [--json]", short: "known peers with trust state and whether they are online", run: c.peers})
	peer := add("peers", root, leaf{use: "peer add HOST:PORT | peer rm PEER", short: "add a peer by address, or forget one", run: c.peerGroup})
	add("", peer, leaf{use: "add HOST:PORT", short: "add a peer by address (networks without multicast, other subnets, VPNs)", run: c.peerAdd,
		example: "  peerdesk peer add 192.168.1.20:47220"})
	add("", peer, leaf{use: "rm PEER", short: "forget a peer", run: c.peerRm, aliases: []string{"remove"}})
	add("peers", root, leaf{use: "ping PEER [--json]", short: "reach a peer over the encrypted transport", run: c.ping})
	add("peers", root, leaf{use: "trust PEER [--fingerprint FP|CODE]", short: "pin a peer's key; with the code read off its screen, mark it verified", run: c.trust,
		long:    "Without --fingerprint, pins the key the peer presents now. With the fingerprint or the\nverification code read off the other PC's own screen, marks it verified. A key other than\nthe pinned one is never adopted without its code.",
		example: "  peerdesk trust \"Front desk\" --fingerprint ABCD-EFGH-IJKL-MNOP"})
	add("peers", root, leaf{use: "untrust PEER", short: "forget a peer's pinned key", run: c.untrust})
	add("peers", root, leaf{use: "doctor [--json]", short: "check the network: interfaces, mDNS, each peer's UDP port both ways, clocks", run: c.doctor,
		long:    "Checks what discovery uses and whether each known peer can be reached on its UDP port and\ncan reach this one on ours, compares clocks, and names for each problem the one thing to do.\nExit status 0 when healthy, 1 with problems.",
		example: "  peerdesk doctor\n  peerdesk doctor --json"})

	add("files", root, leaf{use: "ls PEER[:SHARE[/PATH]] [--json] [--user U]", short: "list a peer's shares or a folder of a share", run: c.ls,
		example: "  peerdesk ls \"Front desk\"\n  peerdesk ls \"Front desk:docs/2026\" --user alice"})
	add("files", root, leaf{use: "get PEER:SHARE/PATH [DEST] [--user U] [--replace] [--json]", short: "download a file or folder, verified and resumable", run: c.get,
		example: "  peerdesk get \"Front desk:docs/report.pdf\" ~/Downloads --user alice"})
	add("files", root, leaf{use: "put LOCAL... PEER:SHARE/DIR [--user U] [--replace]", short: "upload files and folders into a share", run: c.put,
		example: "  peerdesk put minutes.pdf \"Front desk:drop/\" --user alice"})
	add("files", root, leaf{use: "send [PEER] FILE... [--queue]", short: "push files to a peer, which accepts or declines them (--queue: when it is back online)", run: c.send,
		long:    "Sends files and folders to another PC, whose user accepts or declines them. With no PEER,\nthe running desktop app asks which PC to send to (what the file managers' \"Send to\" runs).",
		example: "  peerdesk send \"Front desk\" minutes.pdf photos/"})
	add("files", root, leaf{use: "search PATTERN [--peer PEER --user U] [--json]", short: "find files in the shares of the online peers", run: c.search,
		example: "  peerdesk search invoice\n  peerdesk search invoice --peer \"Front desk\" --user alice"})

	add("print", root, leaf{use: "printers [PEER] [--user U] [--json]", short: "local print queues, or a peer's shared printers with state", run: c.printers})
	printer := add("print", root, leaf{use: "printer add|list|rm", short: "a colleague's printer in every program's print dialog", run: c.printerGroup})
	add("", printer, leaf{use: "add PEER:PRINTER [--user U] [--json]", short: "add a peer's shared printer to this PC's printers", run: c.printerAdd,
		long:    "Serves the shared printer on this PC as an IPP Everywhere printer on 127.0.0.1 and adds it to\nthe system's printers (a driverless CUPS queue; an IPP printer on Windows), so every program's\nprint dialog lists it. Jobs go to the owner under the account given here; when its password\nis not known (after a restart without a keyring), they wait until you sign in to that PC.",
		example: "  peerdesk printer add \"Front desk:office\" --user alice"})
	add("", printer, leaf{use: "list [--json]", short: "the added printers with their state", run: c.printerList})
	add("", printer, leaf{use: "rm QUEUE|PEER:PRINTER", short: "remove an added printer from this PC's printers", run: c.printerRm, aliases: []string{"remove"}})
	add("print", root, leaf{use: "print PEER:PRINTER FILE [--copies N] [--wait [--timeout D]] [--user U] [--json]", short: "print on a peer's shared printer", run: c.print,
		example: "  peerdesk print \"Front desk:office\" report.pdf --copies 2 --wait"})

	user := add("setup", root, leaf{use: "user add|passwd|rm|list", short: "this PC's accounts, which other PCs log in with", run: c.user})
	add("", user, leaf{use: "add NAME [--password-file F]", short: "add an account (password from PEERDESK_PASSWORD, a file or a prompt)", run: c.sub(c.user, "add"),
		example: "  peerdesk user add alice"})
	add("", user, leaf{use: "passwd NAME [--password-file F]", short: "change an account's password", run: c.sub(c.user, "passwd")})
	add("", user, leaf{use: "rm NAME", short: "remove an account", run: c.sub(c.user, "rm")})
	add("", user, leaf{use: "list [--json]", short: "list the accounts", run: c.sub(c.user, "list")})
	share := add("setup", root, leaf{use: "share folder|printer|list|rm|pause|resume", short: "what this PC shares, with whom", run: c.share})
	add("", share, leaf{use: "folder NAME PATH [--rw] [--allow USER[:ro|rw|wo]]... [--guest ro|rw|wo] [--password]", short: "share a folder", run: c.sub(c.share, "folder"),
		long:    "Shares a folder under NAME. --allow gives an account read only (ro, the default), read and\nwrite (rw) or drop box (wo) rights; --guest lets PCs without an account in; --password asks\nfor a share password needed in addition (PEERDESK_SHARE_PASSWORD or a prompt).",
		example: "  peerdesk share folder docs ~/Documents/Office --allow alice:rw --allow bob --guest ro"})
	add("", share, leaf{use: "printer NAME QUEUE [--allow USER]... [--guest] [--password]", short: "share a local print queue", run: c.sub(c.share, "printer"),
		example: "  peerdesk share printer office PDF --allow alice"})
	add("", share, leaf{use: "list [--json]", short: "list the shares", run: c.sub(c.share, "list")})
	add("", share, leaf{use: "rm NAME", short: "stop sharing NAME", run: c.sub(c.share, "rm")})
	add("", share, leaf{use: "pause", short: "refuse all other PCs for now (the tray's \"Pause sharing\")", run: c.sub(c.share, "pause")})
	add("", share, leaf{use: "resume", short: "serve the other PCs again", run: c.sub(c.share, "resume")})
	settings := add("setup", root, leaf{use: "settings [--json] | settings set KEY VALUE", short: "this PC's name, port, inbox, auto-accept, transfer limits and background mode", run: c.settings,
		example: "  peerdesk settings\n  peerdesk settings set inbox ~/Downloads/Peerdesk\n  peerdesk settings set upload-limit 10MB/s"})
	add("", settings, leaf{use: "set name|port|inbox|auto-accept|upload-limit|download-limit|background VALUE", short: "change a setting (limits: 10MB/s, 500KiB/s, 80Mbit/s, 0 for none; background: true makes transfers yield to other traffic)", run: c.sub(c.settings, "set")})
	root.AddCommand(c.manCommand(root))
	return root
}

// sub runs a group's handler for one of its subcommands.
func (c *cli) sub(run func([]string) error, name string) func([]string) error {
	return func(args []string) error { return run(append([]string{name}, args...)) }
}

// peerGroup runs `peer` with a subcommand it does not know, or none.
func (c *cli) peerGroup(args []string) error {
	if len(args) == 0 {
		return usagef("peer: want `peer add HOST:PORT` or `peer rm PEER`")
	}
	return usagef("peer: unknown subcommand %q", args[0])
}

func (c *cli) version([]string) error {
	_, err := c.stdout.Write([]byte("peerdesk " + Version + "\n"))
	return err
}

// leafCommand makes l a command that hands its arguments, flags included,
// to l.run; -h/--help shows the generated help.
func (c *cli) leafCommand(l leaf) *cobra.Command {
	return &cobra.Command{
		Use:                   l.use,
		Short:                 l.short,
		Long:                  l.long,
		Example:               l.example,
		Aliases:               l.aliases,
		Args:                  cobra.ArbitraryArgs,
		DisableFlagParsing:    true,
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			end := slices.Index(args, "--")
			if end < 0 {
				end = len(args)
			}
			if slices.ContainsFunc(args[:end], func(a string) bool { return a == "-h" || a == "--help" || a == "-help" }) {
				return cmd.Help()
			}
			return l.run(args)
		},
	}
}
