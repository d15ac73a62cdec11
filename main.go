// Command peerdesk is the Peerdesk peer: the desktop app, the headless
// daemon, and the CLI that talks to either over the home's control socket
// (package cli).
package main

import (
	_ "embed"
	"os"
	"regexp"

	"github.com/peerdesk/peerdesk/cli"
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

// releaseVersion is the stamped version, else FyneApp.toml's.
func releaseVersion() string {
	if version != "" {
		return version
	}
	if m := fyneAppVersion.FindStringSubmatch(fyneAppTOML); m != nil {
		return m[1]
	}
	return "unknown"
}

func main() {
	cli.Version = releaseVersion()
	os.Exit(cli.Run(os.Args[1:], os.Stdout, os.Stderr))
}
