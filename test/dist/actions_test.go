package dist

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestExecArgv(t *testing.T) {
	files := []string{"/tmp/a b.txt", "/tmp/c'd.txt"}
	tests := []struct {
		exec string
		want []string
		err  bool
	}{
		{exec: "peerdesk send %F", want: []string{"peerdesk", "send", "/tmp/a b.txt", "/tmp/c'd.txt"}},
		{exec: "peerdesk send %f", want: []string{"peerdesk", "send", "/tmp/a b.txt"}},
		{exec: "peerdesk send %U", want: []string{"peerdesk", "send", "file:///tmp/a%20b.txt", "file:///tmp/c%27d.txt"}},
		{exec: "peerdesk gui", want: []string{"peerdesk", "gui"}},
		{exec: `"/opt/my app/peerdesk" send %F`, want: []string{"/opt/my app/peerdesk", "send", "/tmp/a b.txt", "/tmp/c'd.txt"}},
		{exec: `sh -c "echo \"\$1\"" %f`, want: []string{"sh", "-c", `echo "$1"`, "/tmp/a b.txt"}},
		{exec: "peerdesk --icon %i send %F", want: []string{"peerdesk", "--icon", "send", "/tmp/a b.txt", "/tmp/c'd.txt"}},
		{exec: "peerdesk 100%%", want: []string{"peerdesk", "100%"}},
		{exec: `peerdesk ""`, want: []string{"peerdesk", ""}},
		{exec: "peerdesk x%F", err: true},
		{exec: "peerdesk %Fx", err: true},
		{exec: "peerdesk %z", err: true},
		{exec: "peerdesk %", err: true},
		{exec: `peerdesk "open`, err: true},
		{exec: `peerdesk "\a"`, err: true},
		{exec: "peerdesk a;b", err: true},
		{exec: "peerdesk $HOME", err: true},
		{exec: "", err: true},
	}
	for _, tt := range tests {
		got, err := ExecArgv(tt.exec, files)
		if tt.err {
			if err == nil {
				t.Errorf("ExecArgv(%q) = %q, want an error", tt.exec, got)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ExecArgv(%q) = %q, %v; want %q", tt.exec, got, err, tt.want)
		}
	}
}

func TestShellArgv(t *testing.T) {
	files := []string{"/tmp/a b.txt", "/tmp/c'd.txt"}
	tests := []struct {
		line string
		want []string
		err  bool
	}{
		{line: "peerdesk send %F", want: []string{"peerdesk", "send", "/tmp/a b.txt", "/tmp/c'd.txt"}},
		{line: "peerdesk send %f", want: []string{"peerdesk", "send", "/tmp/a b.txt"}},
		{line: "peerdesk send %N", want: []string{"peerdesk", "send", "a b.txt", "c'd.txt"}},
		{line: `echo %d 'x y' z\ w`, want: []string{"echo", "/tmp", "x y", "z w"}},
		// Values are quoted even inside quotes, as Thunar and Nemo do.
		{line: `echo "%d"`, want: []string{"echo", "'/tmp'"}},
		{line: `echo "a \"q\" \$x"`, want: []string{"echo", `a "q" $x`}},
		{line: "peerdesk %Q", err: true},
		{line: "peerdesk 'open", err: true},
		{line: `peerdesk "open`, err: true},
		{line: `peerdesk \`, err: true},
		{line: "   ", err: true},
	}
	for _, tt := range tests {
		got, err := ShellArgv(tt.line, files, "fFuUdDnN")
		if tt.err {
			if err == nil {
				t.Errorf("ShellArgv(%q) = %q, want an error", tt.line, got)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ShellArgv(%q) = %q, %v; want %q", tt.line, got, err, tt.want)
		}
	}
}

// FuzzExecArgv: any Exec value gives argv or an error, never a panic, and a
// %F line hands every file over unchanged.
func FuzzExecArgv(f *testing.F) {
	for _, s := range []string{"peerdesk send %F", `"a b" %f %%`, `x "\\" %U`, "%", `"`, "a\tb"} {
		f.Add(s, "/tmp/x y")
	}
	f.Fuzz(func(t *testing.T, line, file string) {
		files := []string{"/f1", file}
		args, err := ExecArgv(line, files)
		if err != nil {
			return
		}
		if len(args) == 0 {
			t.Fatalf("ExecArgv(%q) gave no args and no error", line)
		}
		if line == "prog %F" && !slices.Equal(args[1:], files) {
			t.Fatalf("ExecArgv(%q) = %q", line, args)
		}
	})
}

// FuzzShellArgv: quoting any file name and splitting it again gives it back.
func FuzzShellArgv(f *testing.F) {
	for _, s := range []string{"a b", "it's", `"q"`, `back\slash`, "$HOME", "tab\there", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, file string) {
		args, err := ShellArgv("prog %F", []string{file, file}, "F")
		if err != nil {
			t.Fatalf("ShellArgv with file %q: %v", file, err)
		}
		if want := []string{"prog", file, file}; !slices.Equal(args, want) {
			t.Fatalf("ShellArgv with file %q = %q, want %q", file, args, want)
		}
		_, _ = splitShellWords(file) // arbitrary input: no panic
	})
}

// fakePeerdesk puts a `peerdesk` on PATH that records its arguments, and
// returns the PATH to use and a function reading what it was called with.
func fakePeerdesk(t *testing.T) (path string, calls func() []string) {
	t.Helper()
	dir := t.TempDir()
	log := filepath.Join(dir, "args")
	script := "#!/bin/sh\nprintf '%s\\0' \"$@\" >\"$PEERDESK_FAKE_LOG\"\n"
	if err := os.WriteFile(filepath.Join(dir, "peerdesk"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PEERDESK_FAKE_LOG", log)
	return dir + string(os.PathListSeparator) + os.Getenv("PATH"), func() []string {
		t.Helper()
		data, err := os.ReadFile(log)
		if err != nil {
			t.Fatalf("the fake peerdesk was not called: %v", err)
		}
		return strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00")
	}
}

// checkSendAction runs the action in path on two files with awkward names,
// with a fake peerdesk, and checks it called `peerdesk send FILE1 FILE2`.
func checkSendAction(t *testing.T, path string) {
	t.Helper()
	dir := t.TempDir()
	files := []string{filepath.Join(dir, "report 2024.pdf"), filepath.Join(dir, "it's a \"plan\".txt")}
	for _, f := range files {
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	inv, err := ActionCommand(path, files)
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(path), err)
	}
	pathEnv, calls := fakePeerdesk(t)
	env := append(os.Environ(), "PATH="+pathEnv)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := inv.Command(ctx, env)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: running %q: %v\n%s", filepath.Base(path), inv.Args, err, out.String())
	}
	want := append([]string{"send"}, files...)
	if got := calls(); !slices.Equal(got, want) {
		t.Errorf("%s: peerdesk called with %q, want %q", filepath.Base(path), got, want)
	}
}

// sendActions lists the action files below root (a packaging/linux tree or
// an installed .deb) by their location there.
func sendActions(layout map[string]string, root string) []string {
	var paths []string
	for _, rel := range layout {
		paths = append(paths, filepath.Join(root, rel))
	}
	slices.Sort(paths)
	return paths
}

// sourceActions are the "Send to peer" actions as they sit in the repository.
var sourceActions = map[string]string{
	"nautilus":  "nautilus/Send to peer",
	"nemo":      "nemo/peerdesk-send.nemo_action",
	"dolphin":   "dolphin/peerdesk-send.desktop",
	"thunar":    "thunar/peerdesk-send.uca.xml",
	"open-with": "org.peerdesk.Peerdesk.Send.desktop",
}

// TestSourceActionsSend needs no build: the action files in packaging/linux
// call `peerdesk send FILE...` with the selected files.
func TestSourceActionsSend(t *testing.T) {
	root := filepath.Join(repoRoot(t), "packaging", "linux")
	for _, path := range sendActions(sourceActions, root) {
		t.Run(filepath.Base(path), func(t *testing.T) { checkSendAction(t, path) })
	}
}

// TestNautilusScriptRelativePaths: Nautilus may pass names relative to the
// folder on screen; the script must still hand over absolute paths.
func TestNautilusScriptRelativePaths(t *testing.T) {
	script := filepath.Join(repoRoot(t), "packaging", "linux", "nautilus", "Send to peer")
	dir := t.TempDir()
	pathEnv, calls := fakePeerdesk(t)
	inv := Invocation{Args: []string{script, "a.txt", "sub/b.txt", "/abs/c.txt"}, Dir: dir}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := inv.Command(ctx, append(os.Environ(), "PATH="+pathEnv)).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := []string{"send", filepath.Join(dir, "a.txt"), filepath.Join(dir, "sub/b.txt"), "/abs/c.txt"}
	if got := calls(); !slices.Equal(got, want) {
		t.Errorf("peerdesk called with %q, want %q", got, want)
	}
}
