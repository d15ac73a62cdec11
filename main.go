// Command peerdesk is the Peerdesk peer: the desktop app, the headless
// daemon, and the CLI that talks to either over the home's control socket.
package main

import (
	_ "embed"
	"os"
	"regexp"
)

// version is the release. scripts/dist.sh stamps it (-X main.version);
// other builds read it from the FyneApp.toml compiled in, so that every
// binary reports the one version FyneApp.toml holds.
var version string

//go:embed FyneApp.toml
var fyneAppTOML string

// fyneAppVersion matches the Version line of FyneApp.toml's [Details], the
// only table fyne writes.
var fyneAppVersion = regexp.MustCompile(`(?m)^\s*Version\s*=\s*"([^"]+)"`)

func init() {
	if version != "" {
		return
	}
	version = "unknown"
	if m := fyneAppVersion.FindStringSubmatch(fyneAppTOML); m != nil {
		version = m[1]
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func usageText() string {
	return `peerdesk — share folders, files and printers with the PCs of your office

Usage: peerdesk [--home DIR] COMMAND [ARGS]

Commands:
  gui                         the desktop app (default when no command is given)
  daemon [--name N] [--port P] [--listen HOST] [--no-mdns]
                              run the peer headless until SIGINT/SIGTERM
  id [--json]                 this peer's id, name, fingerprint and verification code
  peers [--json]              known peers with trust state and whether they are online
  peer add HOST:PORT          add a peer by address (networks without multicast)
  peer rm PEER                forget a peer
  ping PEER [--json]          reach a peer over the encrypted transport
  trust PEER [--fingerprint FP|CODE]
                              pin the peer's current key; with the fingerprint or the
                              code read off the other screen, mark it verified
  untrust PEER                forget the peer's pinned key
  printers [PEER] [--json]    local print queues, or a peer's shared printers with state
  print PEER:PRINTER FILE [--copies N] [--wait]
                              print on a peer's shared printer; --wait follows the job
  version                     print the version

PEER is a peer id, a unique id prefix (4+ characters) or a unique name.
The home is --home DIR, else $PEERDESK_HOME, else the user config dir.
Exit status: 0 ok, 1 error, 2 usage, 3 access denied, 4 not found,
5 peer identity changed or untrusted.
`
}
