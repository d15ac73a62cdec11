package cli

import (
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestHelpShowsEveryCommand (R2 3/7): `peerdesk --help` lists every
// command of the tree with its one-line summary, `help COMMAND` and
// `COMMAND --help` show each one's use (and its examples where it has
// some), and the completion scripts come out for the four shells.
func TestHelpShowsEveryCommand(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	root := (&cli{home: home, stdout: io.Discard, stderr: io.Discard}).commands()
	out, errOut, code := runCLI(t, "--home", home, "--help")
	if code != 0 {
		t.Fatalf("--help: exit %d: %s", code, errOut)
	}
	var leaves []*cobra.Command
	var walkTree func(*cobra.Command)
	walkTree = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" {
				continue
			}
			leaves = append(leaves, sub)
			walkTree(sub)
		}
	}
	walkTree(root)
	if len(leaves) < 30 {
		t.Fatalf("only %d commands in the tree", len(leaves))
	}
	for _, c := range root.Commands() {
		if c.Hidden || c.Name() == "help" {
			continue
		}
		if c.Short == "" {
			t.Errorf("%s has no one-line summary", c.CommandPath())
		}
		if !strings.Contains(out, c.Name()) || !strings.Contains(out, c.Short) {
			t.Errorf("--help lacks %s and its summary %q", c.Name(), c.Short)
		}
	}
	for _, want := range []string{"user", "share", "settings", "ls", "get", "put", "send", "search", "transfers", "log", "printer", "completion"} {
		if !strings.Contains(out, "\n  "+want+" ") {
			t.Errorf("--help does not list %s", want)
		}
	}
	for _, c := range leaves {
		path := strings.Fields(c.CommandPath())[1:]
		helpOut, errOut, code := runCLI(t, append([]string{"--home", home, "help"}, path...)...)
		if code != 0 || !strings.Contains(helpOut, "Usage:") {
			t.Errorf("help %s: exit %d: %s%s", strings.Join(path, " "), code, helpOut, errOut)
			continue
		}
		if c.Example != "" && !strings.Contains(helpOut, strings.TrimSpace(strings.Split(c.Example, "\n")[0])) {
			t.Errorf("help %s does not show its example", strings.Join(path, " "))
		}
		flagOut, _, code := runCLI(t, append(append([]string{"--home", home}, path...), "--help")...)
		if code != 0 || flagOut != helpOut {
			t.Errorf("%s --help: exit %d, not the same as help %s", strings.Join(path, " "), code, strings.Join(path, " "))
		}
	}
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		script, errOut, code := runCLI(t, "--home", home, "completion", shell)
		if code != 0 || len(script) < 500 || !strings.Contains(script, "peerdesk") {
			t.Errorf("completion %s: exit %d, %d bytes: %s", shell, code, len(script), errOut)
		}
	}
}
