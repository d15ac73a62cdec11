package dist

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"debug/pe"
	"encoding/pem"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peerdesk/peerdesk/test/netns"
)

// The artifact tests build everything with scripts/dist.sh once per test
// binary: minutes on a warm Go cache, more on a cold one (the Fyne cgo
// packages for Linux and for Windows). So they run only when asked:
// PEERDESK_DIST_TEST=1, or CI=true (unless PEERDESK_DIST_TEST=0, which lets
// a Makefile run them as a separate step). When they run, a missing tool is a
// failure, not a skip. PEERDESK_DIST_DIR=DIR checks the artifacts an earlier
// scripts/dist.sh put in DIR instead of building them.
func distEnabled() bool {
	switch os.Getenv("PEERDESK_DIST_TEST") {
	case "1":
		return true
	case "0":
		return false
	}
	return os.Getenv("CI") == "true"
}

// Artifacts are the outputs of one scripts/dist.sh run.
type Artifacts struct {
	Dir     string // the --out folder
	Version string // FyneApp.toml's version
	Build   string // FyneApp.toml's build number
	Deb     string
	Tarball string
	WinGUI  string
	WinCLI  string
	Setup   string
	DebRoot string // the .deb unpacked with dpkg -x
	TarRoot string // the tarball unpacked
	Log     string // dist.sh's output
	Took    time.Duration
	// SignCert is the throwaway certificate the Windows artifacts were
	// signed with; empty when they were not, and SignSkipped says why.
	SignCert    string
	SignSkipped string
}

var (
	buildOnce sync.Once
	built     *Artifacts
	buildErr  error
	workDir   string // removed by TestMain
)

func TestMain(m *testing.M) {
	code := m.Run()
	if workDir != "" {
		os.RemoveAll(workDir)
	}
	os.Exit(code)
}

func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test source")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// distTools are what dist.sh and these checks need on PATH.
var distTools = []string{
	"go", "gcc", "convert", "xz", "dpkg-deb", "dpkg-shlibdeps", "lintian", "desktop-file-validate",
	"x86_64-w64-mingw32-gcc", "makensis",
}

// artifacts builds (once) and returns every artifact, or skips the test
// when artifact tests are not enabled.
func artifacts(t *testing.T) *Artifacts {
	t.Helper()
	if !distEnabled() {
		t.Skip("artifact tests build every release artifact (minutes): set PEERDESK_DIST_TEST=1 or CI=true")
	}
	root := repoRoot(t)
	buildOnce.Do(func() { built, buildErr = buildArtifacts(root) })
	if buildErr != nil {
		t.Fatalf("building the artifacts: %v", buildErr)
	}
	return built
}

func buildArtifacts(root string) (*Artifacts, error) {
	var missing []string
	for _, tool := range distTools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing tools %v: run scripts/dist-deps.sh", missing)
	}
	version, build, err := fyneAppVersion(filepath.Join(root, "FyneApp.toml"))
	if err != nil {
		return nil, err
	}
	if workDir, err = os.MkdirTemp("", "peerdesk-dist-test-"); err != nil {
		return nil, err
	}
	a := &Artifacts{Dir: filepath.Join(workDir, "dist"), Version: version, Build: build}

	var out []byte
	if dir := os.Getenv("PEERDESK_DIST_DIR"); dir != "" {
		// Check what an earlier `make dist` built instead of building again.
		a.Dir, a.Log = dir, "artifacts from PEERDESK_DIST_DIR="+dir+", not built by this test"
		a.SignSkipped = "artifacts from PEERDESK_DIST_DIR: signing not tested"
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Minute)
		defer cancel()
		start := time.Now()
		// Lintian runs in TestDebLintian, where its findings are reported.
		// --no-harden: the Linux build then reuses the Go build cache of the
		// `make build` step before it instead of compiling every cgo package
		// again with -trimpath and PIE (~6 minutes on a 2-core CI machine).
		cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "scripts", "dist.sh"), "--out", a.Dir, "--no-lint", "--no-harden")
		cmd.Dir = root
		cmd.Env = os.Environ()
		// Signing is optional for a release: the build takes the signing
		// path, with a throwaway certificate, wherever osslsigncode is
		// installed, and CI (where dist-deps.sh installs it) must have it.
		if _, err := exec.LookPath("osslsigncode"); err != nil {
			if os.Getenv("CI") == "true" {
				return nil, fmt.Errorf("osslsigncode is missing (CI=true requires it; scripts/dist-deps.sh): %w", err)
			}
			a.SignSkipped = "osslsigncode is missing, signing not tested (scripts/dist-deps.sh installs it)"
		} else {
			cert, key := filepath.Join(workDir, "sign-cert.pem"), filepath.Join(workDir, "sign-key.pem")
			if err := writeSelfSigned(cert, key); err != nil {
				return nil, fmt.Errorf("throwaway signing certificate: %w", err)
			}
			a.SignCert = cert
			cmd.Env = append(cmd.Env, "PEERDESK_SIGN_CERT="+cert, "PEERDESK_SIGN_KEY="+key,
				"PEERDESK_SIGN_PKCS12=", "PEERDESK_SIGN_PASSWORD=", "PEERDESK_SIGN_TIMESTAMP_URL=")
		}
		out, err = cmd.CombinedOutput()
		a.Took, a.Log = time.Since(start), string(out)
		if err != nil {
			return nil, fmt.Errorf("scripts/dist.sh: %w\n%s", err, out)
		}
	}

	a.Deb = filepath.Join(a.Dir, fmt.Sprintf("peerdesk_%s_%s.deb", version, debArch()))
	a.Tarball = filepath.Join(a.Dir, fmt.Sprintf("peerdesk-%s-linux-%s.tar.xz", version, runtime.GOARCH))
	a.WinGUI = filepath.Join(a.Dir, fmt.Sprintf("peerdesk-%s-windows-amd64.exe", version))
	a.WinCLI = filepath.Join(a.Dir, fmt.Sprintf("peerdesk-cli-%s-windows-amd64.exe", version))
	a.Setup = filepath.Join(a.Dir, fmt.Sprintf("peerdesk-%s-windows-amd64-setup.exe", version))
	for _, f := range []string{a.Deb, a.Tarball, a.WinGUI, a.WinCLI, a.Setup, filepath.Join(a.Dir, "SHA256SUMS")} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("dist.sh did not make %s: %w\n%s", filepath.Base(f), err, out)
		}
	}

	a.DebRoot = filepath.Join(workDir, "deb-root")
	if out, err := exec.Command("dpkg-deb", "-x", a.Deb, a.DebRoot).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("dpkg-deb -x: %w\n%s", err, out)
	}
	a.TarRoot = filepath.Join(workDir, "tar-root")
	if err := os.Mkdir(a.TarRoot, 0o755); err != nil {
		return nil, err
	}
	if out, err := exec.Command("tar", "-C", a.TarRoot, "-xJf", a.Tarball).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("untar: %w\n%s", err, out)
	}
	return a, nil
}

func debArch() string {
	out, err := exec.Command("dpkg", "--print-architecture").Output()
	if err != nil {
		return runtime.GOARCH
	}
	return strings.TrimSpace(string(out))
}

var tomlLine = regexp.MustCompile(`^\s*(\w+)\s*=\s*"?([^"#]*?)"?\s*(#.*)?$`)

// fyneAppVersion reads Version and Build from FyneApp.toml's [Details].
func fyneAppVersion(path string) (version, build string, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", "", err
	}
	inDetails := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			inDetails = line == "[Details]"
			continue
		}
		if m := tomlLine.FindStringSubmatch(line); inDetails && m != nil {
			switch m[1] {
			case "Version":
				version = m[2]
			case "Build":
				build = m[2]
			}
		}
	}
	if version == "" {
		return "", "", fmt.Errorf("%s: no Version in [Details]", path)
	}
	if build == "" {
		build = "1"
	}
	return version, build, nil
}

// TestBuildReport logs what dist.sh printed: its timings and the artifact
// table.
func TestBuildReport(t *testing.T) {
	a := artifacts(t)
	t.Logf("dist.sh took %s\n%s", a.Took.Round(time.Second), a.Log)
}

func TestDebControl(t *testing.T) {
	a := artifacts(t)
	want := map[string]string{"Package": "peerdesk", "Version": a.Version, "Architecture": debArch(), "Section": "net"}
	for field, v := range want {
		out, err := exec.Command("dpkg-deb", "--field", a.Deb, field).Output()
		if err != nil {
			t.Fatalf("dpkg-deb --field %s: %v", field, err)
		}
		if got := strings.TrimSpace(string(out)); got != v {
			t.Errorf("%s: %q, want %q", field, got, v)
		}
	}
	out, err := exec.Command("dpkg-deb", "--field", a.Deb, "Depends").Output()
	if err != nil || !strings.Contains(string(out), "libc6") {
		t.Errorf("Depends = %q (%v), want the shared-library dependencies (libc6, ...)", out, err)
	}
	info, err := exec.Command("dpkg-deb", "--info", a.Deb).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, member := range []string{"control", "md5sums", "conffiles", "postinst", "postrm"} {
		if !regexp.MustCompile(`(?m)^\s+\d+ bytes,\s+\d+ lines\s+\*?\s+` + member + `\b`).Match(info) {
			t.Errorf("control archive has no %s:\n%s", member, info)
		}
	}
	conffiles, err := exec.Command("dpkg-deb", "--info", a.Deb, "conffiles").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(conffiles, []byte("/etc/xdg/autostart/org.peerdesk.Peerdesk.desktop")) {
		t.Error("the autostart entry is not a conffile")
	}
}

func TestDebContents(t *testing.T) {
	a := artifacts(t)
	out, err := exec.Command("dpkg-deb", "--contents", a.Deb).Output()
	if err != nil {
		t.Fatal(err)
	}
	modes := map[string]string{} // path -> permission string
	for _, line := range strings.Split(string(out), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 6 {
			continue
		}
		// Owner must be root: dpkg-deb --root-owner-group.
		if fields[1] != "root/root" {
			t.Errorf("%s is owned by %s", strings.Join(fields[5:], " "), fields[1])
		}
		modes[strings.TrimPrefix(strings.Join(fields[5:], " "), ".")] = fields[0]
	}
	want := map[string]string{
		"/usr/bin/peerdesk": "-rwxr-xr-x",
		"/usr/share/applications/org.peerdesk.Peerdesk.desktop":      "-rw-r--r--",
		"/usr/share/applications/org.peerdesk.Peerdesk.Send.desktop": "-rw-r--r--",
		"/etc/xdg/autostart/org.peerdesk.Peerdesk.desktop":           "-rw-r--r--",
		"/usr/share/nemo/actions/peerdesk-send.nemo_action":          "-rw-r--r--",
		"/usr/share/kio/servicemenus/peerdesk-send.desktop":          "-rwxr-xr-x",
		"/usr/share/peerdesk/nautilus-scripts/Send to peer":          "-rwxr-xr-x",
		"/usr/share/peerdesk/thunar/peerdesk-send.uca.xml":           "-rw-r--r--",
		"/usr/lib/sysctl.d/10-peerdesk.conf":                         "-rw-r--r--",
		"/usr/share/doc/peerdesk/copyright":                          "-rw-r--r--",
		"/usr/share/doc/peerdesk/changelog.gz":                       "-rw-r--r--",
		"/usr/share/man/man1/peerdesk.1.gz":                          "-rw-r--r--",
		"/usr/share/man/man1/peerdesk-share-folder.1.gz":             "-rw-r--r--",
		"/usr/share/man/man1/peerdesk-get.1.gz":                      "-rw-r--r--",
		"/usr/share/bash-completion/completions/peerdesk":            "-rw-r--r--",
	}
	for _, size := range []string{"16x16", "32x32", "48x48", "64x64", "128x128", "256x256"} {
		want["/usr/share/icons/hicolor/"+size+"/apps/org.peerdesk.Peerdesk.png"] = "-rw-r--r--"
	}
	for path, mode := range want {
		got, ok := modes[path]
		if !ok {
			t.Errorf("the .deb has no %s", path)
		} else if got != mode {
			t.Errorf("%s has mode %s, want %s", path, got, mode)
		}
	}
}

func TestDebLintian(t *testing.T) {
	a := artifacts(t)
	out, _ := exec.Command("lintian", "--tag-display-limit", "0", a.Deb).CombinedOutput()
	var errs, warnings []string
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, "E: "):
			errs = append(errs, line)
		case strings.HasPrefix(line, "W: "):
			warnings = append(warnings, line)
		}
	}
	if len(warnings) > 0 {
		t.Logf("lintian warnings:\n%s", strings.Join(warnings, "\n"))
	}
	if len(errs) > 0 {
		t.Errorf("lintian errors:\n%s", strings.Join(errs, "\n"))
	}
}

// TestBinariesReportVersion: the installed binary and the tarball's report
// FyneApp.toml's version.
func TestBinariesReportVersion(t *testing.T) {
	a := artifacts(t)
	want := "peerdesk " + a.Version
	for _, bin := range []string{
		filepath.Join(a.DebRoot, "usr", "bin", "peerdesk"),
		filepath.Join(a.TarRoot, "peerdesk", "usr", "local", "bin", "peerdesk"),
	} {
		out, err := exec.Command(bin, "--version").CombinedOutput()
		if err != nil {
			t.Errorf("%s --version: %v\n%s", bin, err, out)
			continue
		}
		if got := strings.TrimSpace(string(out)); got != want {
			t.Errorf("%s --version = %q, want %q", bin, got, want)
		}
	}
}

func TestDesktopFilesValidate(t *testing.T) {
	a := artifacts(t)
	var files []string
	for _, root := range []string{a.DebRoot, a.TarRoot} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(path, ".desktop") {
				files = append(files, path)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(files) < 5 {
		t.Errorf("found only %d .desktop files: %q", len(files), files)
	}
	for _, f := range files {
		if out, err := exec.Command("desktop-file-validate", f).CombinedOutput(); err != nil {
			t.Errorf("desktop-file-validate %s: %v\n%s", f, err, out)
		} else if len(bytes.TrimSpace(out)) > 0 {
			t.Logf("desktop-file-validate %s:\n%s", f, out)
		}
	}
}

// TestDebActionsSend: the actions as installed by the .deb call
// `peerdesk send FILE1 FILE2`.
func TestDebActionsSend(t *testing.T) {
	a := artifacts(t)
	installed := map[string]string{
		"nautilus":  "usr/share/peerdesk/nautilus-scripts/Send to peer",
		"nemo":      "usr/share/nemo/actions/peerdesk-send.nemo_action",
		"dolphin":   "usr/share/kio/servicemenus/peerdesk-send.desktop",
		"thunar":    "usr/share/peerdesk/thunar/peerdesk-send.uca.xml",
		"open-with": "usr/share/applications/org.peerdesk.Peerdesk.Send.desktop",
	}
	for _, path := range sendActions(installed, a.DebRoot) {
		t.Run(filepath.Base(path), func(t *testing.T) { checkSendAction(t, path) })
	}
}

// windowsExe opens a PE and checks what every Windows artifact shares:
// x86-64, PE32+, a version resource with FyneApp.toml's version.build.
func windowsExe(t *testing.T, path, version4 string) (*pe.File, *pe.OptionalHeader64, map[uint32][][]byte) {
	t.Helper()
	f, err := pe.Open(path)
	if err != nil {
		t.Fatalf("%s is not a PE file: %v", filepath.Base(path), err)
	}
	t.Cleanup(func() { f.Close() })
	if f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 {
		t.Errorf("%s: machine %#x, want AMD64", filepath.Base(path), f.Machine)
	}
	oh, ok := f.OptionalHeader.(*pe.OptionalHeader64)
	if !ok {
		t.Fatalf("%s is not PE32+", filepath.Base(path))
	}
	res, err := peResources(f)
	if err != nil {
		t.Fatalf("%s: resources: %v", filepath.Base(path), err)
	}
	if len(res[rtVersion]) == 0 {
		t.Fatalf("%s has no version resource", filepath.Base(path))
	}
	fileV, productV, err := fixedVersion(res[rtVersion][0])
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(path), err)
	}
	if fileV != version4 || productV != version4 {
		t.Errorf("%s: file version %s, product version %s; want %s", filepath.Base(path), fileV, productV, version4)
	}
	return f, oh, res
}

func TestWindowsGUIExe(t *testing.T) {
	a := artifacts(t)
	_, oh, res := windowsExe(t, a.WinGUI, a.Version+"."+a.Build)
	if oh.Subsystem != pe.IMAGE_SUBSYSTEM_WINDOWS_GUI {
		t.Errorf("subsystem %d, want IMAGE_SUBSYSTEM_WINDOWS_GUI (built without -H windowsgui?)", oh.Subsystem)
	}
	for _, typ := range []uint32{rtIcon, rtGroupIcon, rtManifest} {
		if len(res[typ]) == 0 {
			t.Errorf("no resource of type %d (icon 3, icon group 14, manifest 24)", typ)
		}
	}
	if !bytes.Contains(res[rtVersion][0], utf16("Peerdesk")) {
		t.Error("the version resource does not name Peerdesk")
	}
}

func TestWindowsCLIExe(t *testing.T) {
	a := artifacts(t)
	_, oh, res := windowsExe(t, a.WinCLI, a.Version+"."+a.Build)
	if oh.Subsystem != pe.IMAGE_SUBSYSTEM_WINDOWS_CUI {
		t.Errorf("subsystem %d, want the console (IMAGE_SUBSYSTEM_WINDOWS_CUI)", oh.Subsystem)
	}
	if len(res[rtGroupIcon]) == 0 {
		t.Error("no icon")
	}
}

func TestWindowsInstaller(t *testing.T) {
	a := artifacts(t)
	windowsExe(t, a.Setup, a.Version+"."+a.Build)
	data, err := os.ReadFile(a.Setup)
	if err != nil {
		t.Fatal(err)
	}
	// NSIS's first header marks the compressed payload after the stub.
	if !bytes.Contains(data, []byte("NullsoftInst")) {
		t.Error("no NSIS payload (NullsoftInst) in the installer")
	}
	gui, err := os.Stat(a.WinGUI)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < int(gui.Size())/4 {
		t.Errorf("installer is %d bytes, too small to hold the %d-byte app", len(data), gui.Size())
	}
}

func TestChecksums(t *testing.T) {
	a := artifacts(t)
	cmd := exec.Command("sha256sum", "--check", "--strict", "SHA256SUMS")
	cmd.Dir = a.Dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sha256sum --check: %v\n%s", err, out)
	}
	for _, f := range []string{a.Deb, a.Tarball, a.WinGUI, a.WinCLI, a.Setup} {
		if !bytes.Contains(out, []byte(filepath.Base(f)+": OK")) {
			t.Errorf("SHA256SUMS does not cover %s:\n%s", filepath.Base(f), out)
		}
	}
}

// utf16 encodes ASCII s as UTF-16LE, the string form of version resources.
func utf16(s string) []byte {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r), 0)
	}
	return b
}

// TestWindowsSigned: with PEERDESK_SIGN_CERT/KEY set (a throwaway
// self-signed certificate made by buildArtifacts), dist.sh signed both exes
// and the installer through packaging/windows/sign.sh, and the signatures
// verify against that certificate.
func TestWindowsSigned(t *testing.T) {
	a := artifacts(t)
	if a.SignCert == "" {
		t.Skip(a.SignSkipped)
	}
	if !strings.Contains(a.Log, "signing Windows artifacts with osslsigncode") {
		t.Errorf("dist.sh did not announce signing:\n%s", a.Log)
	}
	for _, exe := range []string{a.WinGUI, a.WinCLI, a.Setup} {
		out, err := exec.Command("osslsigncode", "verify", "-CAfile", a.SignCert, "-in", exe).CombinedOutput()
		if err != nil {
			t.Errorf("osslsigncode verify %s: %v\n%s", filepath.Base(exe), err, out)
			continue
		}
		f, err := pe.Open(exe)
		if err != nil {
			t.Fatalf("signed %s is no longer a PE: %v", filepath.Base(exe), err)
		}
		if oh := f.OptionalHeader.(*pe.OptionalHeader64); oh.DataDirectory[pe.IMAGE_DIRECTORY_ENTRY_SECURITY].Size == 0 {
			t.Errorf("%s has no certificate table", filepath.Base(exe))
		}
		f.Close()
	}
}

// writeSelfSigned writes a code-signing certificate valid for an hour and
// its key as PEM.
func writeSelfSigned(certFile, keyFile string) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Peerdesk test signer"},
		NotBefore:             time.Now().Add(-time.Minute),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), 0o600)
}

// TestPlainBuildReportsVersion: a binary built without dist.sh's stamp (go
// build, make build, the test bed's) reports FyneApp.toml's version too.
func TestPlainBuildReportsVersion(t *testing.T) {
	root := repoRoot(t)
	version, _, err := fyneAppVersion(filepath.Join(root, "FyneApp.toml"))
	if err != nil {
		t.Fatal(err)
	}
	bin := netns.PeerdeskBinary(t)
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --version: %v\n%s", bin, err, out)
	}
	if got, want := strings.TrimSpace(string(out)), "peerdesk "+version; got != want {
		t.Errorf("--version = %q, want %q", got, want)
	}
}

// dpkgRoot is a fresh, empty root with its own dpkg database: dpkg installs
// into it with --root, the maintainer scripts run outside a chroot with
// DPKG_ROOT set (a root without a shell or libc cannot chroot), which is
// what Debian's chrootless bootstrap does.
type dpkgRoot struct {
	dir string
}

func newDpkgRoot(t *testing.T) dpkgRoot {
	t.Helper()
	r := dpkgRoot{dir: t.TempDir()}
	admin := filepath.Join(r.dir, "var", "lib", "dpkg")
	for _, d := range []string{"info", "updates", "triggers"} {
		if err := os.MkdirAll(filepath.Join(admin, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"status", "available"} {
		if err := os.WriteFile(filepath.Join(admin, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// dpkg runs dpkg on the root. The root has none of the package's
// dependencies (libc6, ...), hence --force-depends.
func (r dpkgRoot) dpkg(t *testing.T, args ...string) {
	t.Helper()
	all := append([]string{"--root=" + r.dir, "--log=/dev/null", "--force-script-chrootless",
		"--force-depends", "--force-unsafe-io"}, args...)
	out, err := exec.Command("dpkg", all...).CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (r dpkgRoot) exists(rel string) bool {
	_, err := os.Lstat(filepath.Join(r.dir, rel))
	return err == nil
}

func (r dpkgRoot) status(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("dpkg-query", "--admindir="+filepath.Join(r.dir, "var", "lib", "dpkg"),
		"-W", "-f=${Status}", "peerdesk").CombinedOutput()
	if err != nil {
		return "not known: " + strings.TrimSpace(string(out))
	}
	return string(out)
}

// TestDebInstallIntoFreshRoot installs the .deb with dpkg into an empty
// root, installs it again over itself (postinst must be idempotent), then
// removes and purges it: the files come and go as they should, postinst
// registers "Send with Peerdesk" as an Open With handler of any file, and
// the autostart conffile survives remove and goes with purge.
func TestDebInstallIntoFreshRoot(t *testing.T) {
	a := artifacts(t)
	if _, err := exec.LookPath("update-desktop-database"); err != nil {
		t.Fatalf("update-desktop-database is missing (desktop-file-utils, scripts/dist-deps.sh): %v", err)
	}
	r := newDpkgRoot(t)
	installed := []string{
		"usr/bin/peerdesk",
		"usr/share/applications/org.peerdesk.Peerdesk.desktop",
		"usr/share/applications/org.peerdesk.Peerdesk.Send.desktop",
		"usr/share/nemo/actions/peerdesk-send.nemo_action",
		"usr/share/kio/servicemenus/peerdesk-send.desktop",
		"usr/share/peerdesk/nautilus-scripts/Send to peer",
		"usr/share/icons/hicolor/48x48/apps/org.peerdesk.Peerdesk.png",
	}
	const autostart = "etc/xdg/autostart/org.peerdesk.Peerdesk.desktop"

	for i := 0; i < 2; i++ {
		r.dpkg(t, "-i", a.Deb)
		if st := r.status(t); st != "install ok installed" {
			t.Fatalf("install #%d: status %q", i+1, st)
		}
	}
	for _, f := range append(installed, autostart) {
		if !r.exists(f) {
			t.Errorf("installed root has no %s", f)
		}
	}
	out, err := exec.Command(filepath.Join(r.dir, "usr", "bin", "peerdesk"), "--version").CombinedOutput()
	if got, want := strings.TrimSpace(string(out)), "peerdesk "+a.Version; err != nil || got != want {
		t.Errorf("installed peerdesk --version = %q (%v), want %q", got, err, want)
	}
	cache, err := os.ReadFile(filepath.Join(r.dir, "usr", "share", "applications", "mimeinfo.cache"))
	if err != nil {
		t.Errorf("postinst built no MIME cache: %v", err)
	} else if !regexp.MustCompile(`(?m)^application/octet-stream=.*org\.peerdesk\.Peerdesk\.Send\.desktop;`).Match(cache) {
		t.Errorf("the MIME cache does not offer org.peerdesk.Peerdesk.Send.desktop for application/octet-stream:\n%s", cache)
	}

	r.dpkg(t, "--remove", "peerdesk")
	for _, f := range installed {
		if r.exists(f) {
			t.Errorf("%s is still there after remove", f)
		}
	}
	if !r.exists(autostart) {
		t.Error("remove deleted the autostart conffile (only purge may)")
	}
	if cache, err := os.ReadFile(filepath.Join(r.dir, "usr", "share", "applications", "mimeinfo.cache")); err == nil &&
		bytes.Contains(cache, []byte("org.peerdesk.Peerdesk")) {
		t.Errorf("after remove the MIME cache still lists Peerdesk:\n%s", cache)
	}

	r.dpkg(t, "--purge", "peerdesk")
	if r.exists(autostart) {
		t.Error("purge left the autostart entry")
	}
	if st := r.status(t); st != "" && !strings.HasPrefix(st, "not known") && !strings.Contains(st, "not-installed") {
		t.Errorf("after purge: status %q", st)
	}
}

// TestTarballInstalls: the fyne tarball's Makefile installs the app, system
// wide (make install, into a DESTDIR) and per user (make user-install).
func TestTarballInstalls(t *testing.T) {
	a := artifacts(t)
	src := filepath.Join(a.TarRoot, "peerdesk")
	dest, home := t.TempDir(), t.TempDir()
	for _, args := range [][]string{{"install", "DESTDIR=" + dest}, {"user-install", "HOME=" + home}} {
		cmd := exec.Command("make", append([]string{"-C", src}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("make %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	for _, f := range []string{
		filepath.Join(dest, "usr/bin/peerdesk"),
		filepath.Join(dest, "usr/share/applications/org.peerdesk.Peerdesk.desktop"),
		filepath.Join(dest, "usr/share/pixmaps/org.peerdesk.Peerdesk.png"),
		filepath.Join(home, ".local/bin/peerdesk"),
		filepath.Join(home, ".local/share/applications/org.peerdesk.Peerdesk.desktop"),
		filepath.Join(home, ".local/share/icons/org.peerdesk.Peerdesk.png"),
	} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("not installed: %v", err)
		}
	}
	out, err := exec.Command(filepath.Join(home, ".local/bin/peerdesk"), "--version").CombinedOutput()
	if got, want := strings.TrimSpace(string(out)), "peerdesk "+a.Version; err != nil || got != want {
		t.Errorf("user-installed peerdesk --version = %q (%v), want %q", got, err, want)
	}
}
