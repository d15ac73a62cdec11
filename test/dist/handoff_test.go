//go:build !nogui

package dist

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/peerdesk/peerdesk/app"
	"github.com/peerdesk/peerdesk/test/netns"
)

// TestDebHandOffToRunningApp is the file manager's "Send to peer" end to
// end, with the .deb as installed: the desktop app from the .deb runs under
// Xvfb (in a namespace of the test bed, so its mDNS stays off the machine's
// network), then the Nautilus script and the Nemo action run the way those
// file managers run them, with two files each and the .deb's usr/bin first
// on PATH. Each must hand both files to the running instance, which opens
// its peer picker for exactly those files.
func TestDebHandOffToRunningApp(t *testing.T) {
	a := artifacts(t)
	if _, err := exec.LookPath("Xvfb"); err != nil {
		t.Fatalf("Xvfb is missing (scripts/deps.sh): %v", err)
	}
	bin := filepath.Join(a.DebRoot, "usr", "bin", "peerdesk")
	bed := netns.New(t, 1)
	desk := bed.Host(0)
	display := startXvfb(t)
	desk.Env = append(desk.Env, "DISPLAY="+display,
		"PATH="+filepath.Join(a.DebRoot, "usr", "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	gui := desk.Start(t, bin, "gui", "--name", "front-desk")

	state := func() (app.WindowState, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return app.Client{Home: desk.Home}.State(ctx)
	}
	netns.WaitFor(t, 30*time.Second, 50*time.Millisecond, func() (bool, string) {
		st, err := state()
		if err != nil {
			return false, fmt.Sprintf("window state: %v", err)
		}
		return st.Visible, fmt.Sprintf("window state %+v", st)
	})

	dir := t.TempDir()
	// Each action hands over its own pair of files.
	actions := []struct{ name, path string }{
		{"nautilus", filepath.Join(a.DebRoot, "usr/share/peerdesk/nautilus-scripts/Send to peer")},
		{"nemo", filepath.Join(a.DebRoot, "usr/share/nemo/actions/peerdesk-send.nemo_action")},
	}
	// The picker stays open between the two actions, so the second hand-off
	// adds its pair to the first (as a multi-selection in Explorer does).
	var want []string
	for _, act := range actions {
		files := []string{
			filepath.Join(dir, act.name+" report 2024.pdf"),
			filepath.Join(dir, act.name+"-it's a \"plan\".txt"),
		}
		for _, f := range files {
			if err := os.WriteFile(f, []byte("contents of "+f), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		inv, err := ActionCommand(act.path, files)
		if err != nil {
			t.Fatalf("%s: %v", act.name, err)
		}
		// Run it on the desktop's host with its environment, as the file
		// manager of that session would.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		prog := inv.Args[0]
		if !strings.Contains(prog, "/") {
			p, err := lookPathIn(prog, desk.Env)
			if err != nil {
				cancel()
				t.Fatalf("%s: %v", act.name, err)
			}
			prog = p
		}
		cmd := desk.Command(ctx, prog, inv.Args[1:]...)
		if inv.Dir != "" {
			cmd.Dir = inv.Dir
		}
		cmd.Env = append(cmd.Env, inv.Env...)
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("%s: %q: %v\n%s", act.name, inv.Args, err, out)
		}
		t.Logf("%s: ran %q", act.name, inv.Args)
		want = append(want, files...)

		netns.WaitFor(t, 10*time.Second, 50*time.Millisecond, func() (bool, string) {
			st, err := state()
			if err != nil {
				return false, fmt.Sprintf("window state: %v", err)
			}
			return st.Picker && slices.Equal(st.PickerFiles, want),
				fmt.Sprintf("after the %s action: picker %v with %q, want %q", act.name, st.Picker, st.PickerFiles, want)
		})
	}
	if !gui.Running() {
		t.Fatalf("the desktop app stopped:\n%s", gui.Log())
	}
	if err := gui.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code, err := gui.Wait(10 * time.Second); err != nil || code != 0 {
		t.Errorf("desktop app after SIGTERM: exit %d, %v", code, err)
	}
}

// startXvfb starts a virtual X server on a display number it picks itself
// (-displayfd, so parallel test packages cannot race for one) and returns
// the display name; the server is stopped when the test ends.
func startXvfb(t *testing.T) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logPath := filepath.Join(t.TempDir(), "xvfb.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	err = cmd.Start()
	w.Close()
	logFile.Close()
	if err != nil {
		t.Fatalf("start Xvfb: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})
	// Xvfb writes the display number once it accepts connections.
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		got <- strings.TrimSpace(line)
	}()
	select {
	case n := <-got:
		if n == "" {
			log, _ := os.ReadFile(logPath)
			t.Fatalf("Xvfb gave no display number: %s", log)
		}
		return ":" + n
	case <-time.After(15 * time.Second):
		log, _ := os.ReadFile(logPath)
		t.Fatalf("Xvfb did not come up within 15s: %s", log)
	}
	return ""
}
