package netns

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Module is the main package of the project, for Build.
const Module = "github.com/peerdesk/peerdesk"

var (
	buildMu    sync.Mutex
	buildDir   string
	buildCache = map[string]string{}
)

// Build compiles the main package pkg with `go build` and extra build
// flags (e.g. "-tags", "nogui"), with CGO_ENABLED=0, and returns the
// binary's path. Each (pkg, flags) pair is built once per test process;
// the binaries live in a temp directory that the next bed of a later run
// removes.
func Build(t testing.TB, pkg string, flags ...string) string {
	t.Helper()
	return build(t, false, pkg, flags...)
}

// GUIBinary builds the desktop peerdesk binary (cgo, Fyne), as users run it:
// with GUITags, as `make build` and scripts/dist.sh build it.
func GUIBinary(t testing.TB) string {
	t.Helper()
	return build(t, true, Module, "-tags", GUITags)
}

// GUITags are the build tags of the desktop app: no_emoji drops Fyne's
// bundled emoji font (~15 MB of memory at start).
const GUITags = "no_emoji"

func build(t testing.TB, cgo bool, pkg string, flags ...string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	key := fmt.Sprint(cgo) + "\x00" + pkg + "\x00" + strings.Join(flags, "\x00")
	if bin, ok := buildCache[key]; ok {
		return bin
	}
	if buildDir == "" {
		cleanLeftoverDirs()
		dir := filepath.Join(os.TempDir(), namePrefix+strconv.Itoa(os.Getpid())+"-"+randomHex(3)+"-bin")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatalf("netns: build directory: %v", err)
		}
		buildDir = dir
	}
	bin := filepath.Join(buildDir, filepath.Base(pkg)+"-"+strconv.Itoa(len(buildCache)))
	args := append([]string{"build", "-o", bin}, flags...)
	args = append(args, pkg)
	if err := buildCmd(cgo, args); err != nil {
		t.Fatalf("netns: %v", err)
	}
	buildCache[key] = bin
	return bin
}

// PeerdeskBinary builds the headless peerdesk binary (-tags nogui, no cgo),
// as CI and the integration tests use it.
func PeerdeskBinary(t testing.TB) string {
	t.Helper()
	return Build(t, Module, "-tags", "nogui")
}

func buildCmd(cgo bool, args []string) error {
	gobin, err := exec.LookPath("go")
	if err != nil {
		// go test puts GOROOT/bin on PATH; this covers running the test
		// binary directly.
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gobin, args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if cgo {
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}
