//go:build !nogui

package gui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/peerdesk/peerdesk/app"
	"github.com/peerdesk/peerdesk/test/netns"
)

// xdo runs xdotool on display: the keyboard and mouse of a person.
func xdo(t *testing.T, display string, args ...string) string {
	t.Helper()
	cmd := exec.Command("xdotool", args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("xdotool %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// waitState waits until the app's window state satisfies ok.
func waitState(t *testing.T, home, what string, ok func(app.WindowState) bool) app.WindowState {
	t.Helper()
	var st app.WindowState
	netns.WaitFor(t, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
		var err error
		st, err = windowState(home)
		if err != nil {
			return false, err.Error()
		}
		return ok(st), fmt.Sprintf("%s; window state: files %+v, dialog %+v, print %+v, transfers %+v", what, st.Files, st.Dialog, st.Print, st.Transfers)
	})
	return st
}

// TestFilesFlowsUnderXvfb (R2 7/7): the Files screen as a person uses it,
// the real app under Xvfb against a real daemon, driven by the keyboard:
// a refused login is said in the dialog with what was typed kept and the
// cursor in the password; Enter logs in; the session's login opens the
// next share without asking; the buttons follow the share's right; a long
// name leaves the window as wide as it was; Esc closes the dialog.
func TestFilesFlowsUnderXvfb(t *testing.T) {
	requireTools(t, "Xvfb", "xdotool")
	bed := netns.New(t, 2)
	gui := netns.GUIBinary(t)
	daemon := netns.PeerdeskBinary(t)
	display := startXvfb(t)
	desk, other := bed.Host(0), bed.Host(1)

	const alicePW = "correct horse battery staple"
	shared := t.TempDir()
	docs, box, secret := filepath.Join(shared, "docs"), filepath.Join(shared, "box"), filepath.Join(shared, "secret")
	long := strings.Repeat("Quarterly report of the front desk ", 6) + "final.pdf"
	for _, d := range []string{docs, box, secret} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range map[string]string{"minutes.txt": "minutes\n", long: "%PDF-1.4\n"} {
		if err := os.WriteFile(filepath.Join(docs, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A big file in box, to have a download still running when canceled
	// (sparse: zeros read at once on the owner's side).
	if f, err := os.Create(filepath.Join(box, "big.bin")); err != nil {
		t.Fatal(err)
	} else if err := errors.Join(f.Truncate(1<<30), f.Close()); err != nil {
		t.Fatal(err)
	}
	admin := func(env []string, args ...string) {
		t.Helper()
		if out, errOut, code := other.RunWith(t, netns.RunOptions{Env: env}, daemon, args...); code != 0 {
			t.Fatalf("%s: exit %d: %s%s", strings.Join(args, " "), code, out, errOut)
		}
	}
	admin([]string{"PEERDESK_PASSWORD=" + alicePW}, "user", "add", "alice")
	admin([]string{"PEERDESK_PASSWORD=another long password"}, "user", "add", "bob")
	admin(nil, "share", "folder", "docs", docs, "--allow", "alice:ro")
	admin(nil, "share", "folder", "box", box, "--allow", "alice:rw")
	admin(nil, "share", "folder", "secret", secret, "--allow", "bob:ro")
	// A real cupsd with its PDF queue beside the colleague's daemon,
	// shared with alice only.
	cups := netns.StartCUPS(t, other)
	admin(nil, "share", "printer", "office", "PDF", "--allow", "alice")
	other.Start(t, daemon, "daemon", "--name", "colleague", "--port", strconv.Itoa(port))
	// The desk has no cupsd of its own: without this, anything of the
	// app's that reached for the print system would change the machine's
	// own cupsd.
	desk.Env = append(desk.Env, "DISPLAY="+display, "CUPS_SERVER="+filepath.Join(t.TempDir(), "no-cupsd.sock"))
	desk.Start(t, gui, "--name", "front-desk", "--port", strconv.Itoa(port))
	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(desk.Home, "peerdesk.log"))
			t.Logf("the app's log:\n%s", log[max(0, len(log)-6000):])
		}
	})
	st := waitState(t, desk.Home, "the window lists the colleague", func(s app.WindowState) bool { return s.Visible && s.Peers >= 1 })
	window := xdo(t, display, "search", "--sync", "--name", "Peerdesk — front-desk")
	if f := strings.Fields(window); len(f) > 0 {
		window = f[0]
	}
	xdo(t, display, "windowfocus", "--sync", window)
	client := app.Client{Home: desk.Home}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// docs is locked for a guest: opening it asks for a login, the cursor
	// in the account field.
	if err := client.Open(ctx, "colleague:docs"); err != nil {
		t.Fatal(err)
	}
	waitState(t, desk.Home, "the login dialog, cursor in Account", func(s app.WindowState) bool {
		return s.Dialog != nil && s.Dialog.Title == "Log in to colleague" && s.Dialog.Focus == "Account"
	})
	widthBefore := st.Width

	// A wrong password, typed and sent with Enter: the dialog says why,
	// keeps the account and what was typed, and puts the cursor in the
	// password.
	xdo(t, display, "type", "--delay", "20", "alice")
	xdo(t, display, "key", "Tab")
	xdo(t, display, "type", "--delay", "20", "not the password")
	xdo(t, display, "key", "Return")
	st = waitState(t, desk.Home, "the refusal said in the dialog", func(s app.WindowState) bool {
		return s.Dialog != nil && s.Dialog.Message != ""
	})
	if d := st.Dialog; d.Account != "alice" || d.PasswordLen != len("not the password") || d.Focus != "Password" {
		t.Errorf("after a wrong password: dialog %+v; want account alice and the %d characters typed kept, cursor in Password", d, len("not the password"))
	}
	t.Logf("refusal in the dialog: %q", st.Dialog.Message)

	// The right password (Ctrl+A replaces what was typed) and Enter.
	xdo(t, display, "key", "ctrl+a")
	xdo(t, display, "type", "--delay", "10", alicePW)
	xdo(t, display, "key", "Return")
	st = waitState(t, desk.Home, "docs open, logged in as alice", func(s app.WindowState) bool {
		return s.Dialog == nil && s.Files != nil && slices.Equal(s.Files.Path, []string{"docs"}) && len(s.Files.Rows) == 2
	})
	if f := st.Files; f.Login != "Logged in as alice ▾" || !f.Download || f.Upload || f.NewFolder {
		t.Errorf("docs (read only for alice): %+v; want logged in as alice, Download on, Upload and New folder off", f)
	}
	if !slices.Contains(st.Files.Rows, long) {
		t.Errorf("rows %q lack the long name", st.Files.Rows)
	}
	if st.Width > widthBefore+1 {
		t.Errorf("the window grew from %v to %v px with a long name listed", widthBefore, st.Width)
	}

	// The session's login opens the next share without asking, and its
	// right turns uploading on.
	if err := client.Open(ctx, "colleague:box"); err != nil {
		t.Fatal(err)
	}
	st = waitState(t, desk.Home, "box open without a dialog", func(s app.WindowState) bool {
		return s.Files != nil && slices.Equal(s.Files.Path, []string{"box"}) && !strings.Contains(s.Files.Status, "Loading")
	})
	if f := st.Files; st.Dialog != nil || !f.Upload || !f.NewFolder || f.Login != "Logged in as alice ▾" {
		t.Errorf("box (read & write for alice): files %+v, dialog %+v; want no dialog, Upload and New folder on", f, st.Dialog)
	}

	// A share alice may not open asks again; Esc closes the dialog and
	// nothing changes.
	if err := client.Open(ctx, "colleague:secret"); err != nil {
		t.Fatal(err)
	}
	waitState(t, desk.Home, "the login dialog for secret", func(s app.WindowState) bool { return s.Dialog != nil })
	xdo(t, display, "key", "Escape")
	st = waitState(t, desk.Home, "the dialog closed by Esc", func(s app.WindowState) bool { return s.Dialog == nil })
	if st.Files.Login != "Logged in as alice ▾" {
		t.Errorf("after Esc: %+v; want still logged in as alice", st.Files)
	}

	// The keyboard drives the list: Tab reaches it (on the first row,
	// box), Down moves to docs, Enter opens it, Down and Enter pick a
	// file (Download names it), Backspace goes back up.
	if err := client.Open(ctx, "colleague:"); err != nil {
		t.Fatal(err)
	}
	waitState(t, desk.Home, "the share list", func(s app.WindowState) bool {
		return s.Files != nil && len(s.Files.Path) == 0 && slices.Equal(s.Files.Rows, []string{"box", "docs", "secret", "office"})
	})
	tabToTable(t, display, desk.Home)
	xdo(t, display, "key", "Down", "Return")
	waitState(t, desk.Home, "docs opened with Down, Enter", func(s app.WindowState) bool {
		return slices.Equal(s.Files.Path, []string{"docs"}) && len(s.Files.Rows) == 2
	})
	xdo(t, display, "key", "Down", "Return")
	st = waitState(t, desk.Home, "a file picked with Down, Enter", func(s app.WindowState) bool { return s.Files.Selected != "" })
	// The long name picked (the Download button names it) leaves the
	// window as wide as it was.
	if st.Files.Selected == long && st.Width > widthBefore+1 {
		t.Errorf("the window grew from %v to %v px with the long name picked", widthBefore, st.Width)
	}
	xdo(t, display, "key", "BackSpace")
	waitState(t, desk.Home, "back to the share list with Backspace", func(s app.WindowState) bool { return len(s.Files.Path) == 0 })
	t.Logf("keyboard: Tab reached the list; Down, Enter opened docs; Down, Enter picked %q; Backspace went back up", st.Files.Selected)

	// Retry on Transfers uses the session's login, and Cancel and Retry
	// work from the keyboard. A download alice starts from the command
	// line (through this app's node) is canceled on the Transfers screen,
	// then started again there. box admits alice only: a retry without
	// the session's login (as before, with the keyring's, empty here) is
	// refused.
	pwFile := filepath.Join(t.TempDir(), "alice.pw")
	if err := os.WriteFile(pwFile, []byte(alicePW+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(desk.Home, "retried")
	get := desk.Start(t, gui, "get", "colleague:box/big.bin", dest, "--user", "alice", "--password-file", pwFile)
	if err := client.Show(ctx, "Transfers"); err != nil {
		t.Fatal(err)
	}
	waitState(t, desk.Home, "big.bin downloading on Transfers", func(s app.WindowState) bool {
		r, ok := transferRow(s, "big.bin")
		return ok && r.Cancel
	})
	tabToButton(t, display, desk.Home, "cancel:big.bin")
	xdo(t, display, "key", "space")
	st = waitState(t, desk.Home, "big.bin canceled, Retry shown", func(s app.WindowState) bool {
		r, ok := transferRow(s, "big.bin")
		return ok && r.State == "canceled" && r.Retry
	})
	canceled, _ := transferRow(st, "big.bin")
	if code, err := get.Wait(10 * time.Second); err != nil || code == 0 {
		t.Errorf("the command whose download was canceled: exit %d, %v; want a failure", code, err)
	}
	tabToButton(t, display, desk.Home, "retry:big.bin")
	xdo(t, display, "key", "space")
	st = waitState(t, desk.Home, "big.bin downloaded again with the session's login", func(s app.WindowState) bool {
		r, ok := transferRow(s, "big.bin")
		return ok && r.State == "done"
	})
	if fi, err := os.Stat(filepath.Join(dest, "big.bin")); err != nil || fi.Size() != 1<<30 {
		t.Errorf("the retried download: %v, %v; want 1 GiB in place", fi, err)
	}
	done, _ := transferRow(st, "big.bin")
	t.Logf("Transfers by keyboard: Cancel made %q; Retry, logged in as alice, made %q", canceled.Status, done.Status)

	// Print uses the session's login too: the colleague's printer admits
	// alice only. Opened from the Files list (Enter on it, as a person
	// opens a printer among a PC's shares), the Print screen lists it
	// without asking (as a guest it would list none). The file is typed,
	// Print pressed from the keyboard, and the job followed to its end on
	// the colleague's cupsd.
	pdf := filepath.Join(desk.Home, "letter.pdf")
	if b, err := os.ReadFile(filepath.Join("..", "..", "printing", "testdata", "onepage.pdf")); err != nil {
		t.Fatal(err)
	} else if err := os.WriteFile(pdf, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := client.Open(ctx, "colleague:"); err != nil {
		t.Fatal(err)
	}
	waitState(t, desk.Home, "the share list", func(s app.WindowState) bool {
		return s.Files != nil && len(s.Files.Path) == 0 && slices.Contains(s.Files.Rows, "office")
	})
	tabToTable(t, display, desk.Home)
	xdo(t, display, "key", "Down", "Down", "Down", "Return") // box, docs, secret, office
	st = waitState(t, desk.Home, "the colleague's printers listed with alice's login", func(s app.WindowState) bool {
		return s.Print != nil && slices.Equal(s.Print.Printers, []string{"office"}) && s.Print.Printer == "office"
	})
	if st.Dialog != nil {
		t.Errorf("Print asked for a login again: %+v", st.Dialog)
	}
	tabToPrint(t, display, desk.Home, "file")
	xdo(t, display, "type", "--delay", "5", pdf)
	tabToPrint(t, display, desk.Home, "print")
	xdo(t, display, "key", "space")
	start := time.Now()
	st = waitState(t, desk.Home, "the job completed on the colleague's printer", func(s app.WindowState) bool {
		return strings.HasSuffix(s.Print.Status, ": completed")
	})
	jobs := cups.Jobs()
	if len(jobs) != 1 || !strings.HasPrefix(jobs[0], "PDF-") || !strings.Contains(jobs[0], "alice@front-desk") {
		t.Errorf("jobs on the colleague's cupsd %q; want one on PDF by alice@front-desk", jobs)
	}
	t.Logf("Print by keyboard with the session's login: %q %v after Print; the colleague's cupsd has %q", st.Print.Status, time.Since(start).Round(time.Millisecond), jobs)
}

// transferRow is the first row of the Transfers screen for name (the
// running ones come first, then the newest).
func transferRow(s app.WindowState, name string) (app.TransferRowState, bool) {
	if s.Transfers == nil {
		return app.TransferRowState{}, false
	}
	for _, r := range s.Transfers.Rows {
		if r.Name == name {
			return r, true
		}
	}
	return app.TransferRowState{}, false
}

// tabToButton presses Tab until the Transfers row button want ("retry:NAME")
// has the keyboard.
func tabToButton(t *testing.T, display, home, want string) {
	t.Helper()
	tabUntil(t, display, home, want, func(s app.WindowState) string {
		if s.Transfers == nil {
			return ""
		}
		return s.Transfers.Focus
	})
}

// tabToTable presses Tab until the Files list has the keyboard.
func tabToTable(t *testing.T, display, home string) {
	t.Helper()
	tabUntil(t, display, home, "the Files list", func(s app.WindowState) string {
		if s.Files != nil && s.Files.TableFocused {
			return "the Files list"
		}
		return ""
	})
}

// tabToPrint presses Tab until want ("file", "print") of the Print
// screen has the keyboard.
func tabToPrint(t *testing.T, display, home, want string) {
	t.Helper()
	tabUntil(t, display, home, want, func(s app.WindowState) string {
		if s.Print == nil {
			return ""
		}
		return s.Print.Focus
	})
}

// tabUntil presses Tab, as a person moving through the window, until
// focus (what the window state says has the keyboard) is want, at most
// 40 times. After each Tab it waits for the keyboard to move: a Tab still
// on its way when the state was read would move it on after the test
// decided it was there, and the next key would land on the next widget.
func tabUntil(t *testing.T, display, home, want string, focus func(app.WindowState) string) {
	t.Helper()
	for range 40 {
		st, err := windowState(home)
		if err != nil {
			t.Fatal(err)
		}
		before := focus(st)
		if before == want {
			return
		}
		xdo(t, display, "key", "Tab")
		// Widgets the state does not name all read "": for those, a
		// short wait is all there is to go by.
		for deadline := time.Now().Add(300 * time.Millisecond); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if st, err := windowState(home); err == nil && focus(st) != before {
				break
			}
		}
	}
	st, _ := windowState(home)
	t.Fatalf("40 Tabs did not reach %s: files %+v, transfers %+v, print %+v", want, st.Files, st.Transfers, st.Print)
}
