package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peerdesk/peerdesk/control"
	"github.com/peerdesk/peerdesk/identity"
	"github.com/peerdesk/peerdesk/node"
	"github.com/peerdesk/peerdesk/transport"
)

func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(args, &out, &errb)
	return out.String(), errb.String(), code
}

func TestExtractHome(t *testing.T) {
	cases := []struct {
		in       []string
		wantHome string
		wantRest []string
	}{
		{[]string{"--home", "/x", "id"}, "/x", []string{"id"}},
		{[]string{"id", "--home=/y", "--json"}, "/y", []string{"id", "--json"}},
		{[]string{"peers"}, "", []string{"peers"}},
		{[]string{"trust", "--", "--home"}, "", []string{"trust", "--", "--home"}},
	}
	for _, c := range cases {
		home, rest, err := extractHome(c.in)
		if err != nil || home != c.wantHome || strings.Join(rest, " ") != strings.Join(c.wantRest, " ") {
			t.Errorf("%v: home %q rest %v err %v", c.in, home, rest, err)
		}
	}
	if _, _, err := extractHome([]string{"id", "--home"}); err == nil {
		t.Error("--home without a value accepted")
	}
}

func TestExitCodes(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{nil, exitOK},
		{usagef("bad"), exitUsage},
		{fmt.Errorf("wrap: %w", node.ErrPeerNotFound), exitNotFound},
		{fmt.Errorf("wrap: %w", identity.ErrIdentityChanged), exitChanged},
		{fmt.Errorf("wrap: %w", transport.ErrAccessDenied), exitDenied},
		{&control.Error{Code: "denied", Message: "no"}, exitDenied},
		{&control.Error{Code: "not_found", Message: "no"}, exitNotFound},
		{&control.Error{Code: "changed", Message: "no"}, exitChanged},
		{&control.Error{Code: "usage", Message: "no"}, exitUsage},
		{errors.New("disk on fire"), exitError},
		{notRunningHint(), exitError},
	}
	for _, c := range cases {
		cl := &cli{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
		if got := cl.report(c.err); got != c.want {
			t.Errorf("%v: exit %d, want %d", c.err, got, c.want)
		}
	}
}

func TestOfflineCommands(t *testing.T) {
	home := filepath.Join(t.TempDir(), "h")
	out, _, code := runCLI(t, "--home", home, "id", "--json")
	if code != 0 {
		t.Fatalf("id exit %d", code)
	}
	var info map[string]any
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatalf("id --json: %v\n%s", err, out)
	}
	for _, k := range []string{"id", "name", "fingerprint", "code", "port"} {
		if _, ok := info[k]; !ok {
			t.Errorf("id --json lacks %q: %s", k, out)
		}
	}
	out2, _, _ := runCLI(t, "id", "--json", "--home", home)
	if out2 != out {
		t.Fatalf("identity not stable:\n%s\n%s", out, out2)
	}
	out, stderr, code := runCLI(t, "--home", home, "peers", "--json")
	if code != 0 || strings.TrimSpace(out) != "[]" || !strings.Contains(stderr, "no peer running") {
		t.Fatalf("peers offline: code %d out %q err %q", code, out, stderr)
	}
	_, stderr, code = runCLI(t, "--home", home, "ping", "someone")
	if code != exitError || !strings.Contains(stderr, "peerdesk daemon") {
		t.Fatalf("ping without daemon: code %d, %q", code, stderr)
	}
	_, _, code = runCLI(t, "--home", home, "trust", "someone")
	if code != exitNotFound {
		t.Fatalf("trust unknown peer: exit %d", code)
	}
	_, _, code = runCLI(t, "--home", home, "frobnicate")
	if code != exitUsage {
		t.Fatalf("unknown command: exit %d", code)
	}
	_, _, code = runCLI(t, "--home", home, "trust")
	if code != exitUsage {
		t.Fatalf("trust without peer: exit %d", code)
	}
	_, _, code = runCLI(t, "--home", home, "daemon", "--port", "70000")
	if code != exitUsage {
		t.Fatalf("bad port: exit %d", code)
	}
}
