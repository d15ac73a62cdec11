// Package dist checks the release artifacts that scripts/dist.sh builds (the
// .deb, the fyne tarball, the Windows exes and installer) and owns the helper
// that turns a file-manager action into the command the file manager would
// run, so that hand-off tests can drive "Send to peer" the way a desktop does.
package dist

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Invocation is a command as a file manager starts it for an action.
type Invocation struct {
	Args []string // Args[0] is the program, looked up in PATH unless it has a slash
	Dir  string   // working directory; empty means the caller's
	Env  []string // extra environment entries (KEY=VALUE) the file manager sets
}

// Command returns the invocation as an exec.Cmd on top of env (nil means the
// current environment). The program is looked up in env's PATH, as the file
// manager's own PATH would be used, so a test can put a fake first.
func (inv Invocation) Command(ctx context.Context, env []string) *exec.Cmd {
	if env == nil {
		env = os.Environ()
	}
	env = append(append([]string(nil), env...), inv.Env...)
	cmd := exec.CommandContext(ctx, inv.Args[0], inv.Args[1:]...)
	if !strings.Contains(inv.Args[0], "/") {
		if p, err := lookPathIn(inv.Args[0], env); err == nil {
			cmd.Path, cmd.Err = p, nil
		} else {
			cmd.Err = err
		}
	}
	cmd.Dir = inv.Dir
	cmd.Env = env
	return cmd
}

// lookPathIn finds an executable name in the PATH of env (the last PATH
// entry wins, as for exec.Cmd.Env).
func lookPathIn(name string, env []string) (string, error) {
	pathList := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			pathList = v
		}
	}
	for _, dir := range filepath.SplitList(pathList) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w in PATH %q", name, exec.ErrNotFound, pathList)
}

// ErrUnknownAction is returned for a file that is no action format we know.
var ErrUnknownAction = errors.New("not a known file-manager action")

// ActionCommand returns what a file manager runs when the user picks the
// action defined in path on files (absolute paths), following that file
// manager's rules:
//
//   - *.nemo_action (Nemo): Exec of [Nemo Action];
//   - *.desktop (Dolphin service menu, or an application such as the
//     "Send with Peerdesk" Open With entry): Exec of the first desktop action
//     listed in Actions=, else of [Desktop Entry], per the Desktop Entry spec;
//   - *.xml (a Thunar uca.xml or snippet): <command> of the first <action>;
//   - any other executable file is a Nautilus script: run with the items as
//     arguments relative to their folder, which is the working directory, and
//     NAUTILUS_SCRIPT_SELECTED_FILE_PATHS set.
//
// The field codes %f/%F (paths) and %u/%U (file URIs) are expanded; Nemo and
// Thunar quote each path and split the line like a shell, which the parser
// here does too.
func ActionCommand(path string, files []string) (Invocation, error) {
	for _, f := range files {
		if !filepath.IsAbs(f) {
			return Invocation{}, fmt.Errorf("action %s: file %q is not absolute", path, f)
		}
	}
	switch {
	case strings.HasSuffix(path, ".nemo_action"):
		return nemoCommand(path, files)
	case strings.HasSuffix(path, ".desktop"):
		return desktopCommand(path, files)
	case strings.HasSuffix(path, ".xml"):
		return thunarCommand(path, files)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return Invocation{}, err
	}
	if fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
		return nautilusCommand(path, files), nil
	}
	return Invocation{}, fmt.Errorf("%s: %w", path, ErrUnknownAction)
}

func nautilusCommand(script string, files []string) Invocation {
	inv := Invocation{Args: []string{script}}
	if len(files) == 0 {
		return inv
	}
	inv.Dir = filepath.Dir(files[0])
	for _, f := range files {
		if rel, err := filepath.Rel(inv.Dir, f); err == nil && !strings.HasPrefix(rel, "..") {
			f = rel
		}
		inv.Args = append(inv.Args, f)
	}
	inv.Env = []string{"NAUTILUS_SCRIPT_SELECTED_FILE_PATHS=" + strings.Join(files, "\n") + "\n"}
	return inv
}

func nemoCommand(path string, files []string) (Invocation, error) {
	groups, err := readKeyFile(path)
	if err != nil {
		return Invocation{}, err
	}
	line, ok := groups["Nemo Action"]["Exec"]
	if !ok {
		return Invocation{}, fmt.Errorf("%s: no Exec in [Nemo Action]", path)
	}
	// Exec=<script args> names a program relative to the action's folder.
	relative := strings.HasPrefix(line, "<") && strings.HasSuffix(line, ">")
	if relative {
		line = line[1 : len(line)-1]
	}
	args, err := ShellArgv(line, files, "fFuUP")
	if err != nil {
		return Invocation{}, fmt.Errorf("%s: %w", path, err)
	}
	if relative && len(args) > 0 && !filepath.IsAbs(args[0]) {
		args[0] = filepath.Join(filepath.Dir(path), args[0])
	}
	return Invocation{Args: args}, nil
}

func desktopCommand(path string, files []string) (Invocation, error) {
	groups, err := readKeyFile(path)
	if err != nil {
		return Invocation{}, err
	}
	group := "Desktop Entry"
	if actions := groups[group]["Actions"]; actions != "" {
		first, _, _ := strings.Cut(actions, ";")
		group = "Desktop Action " + first
	}
	line, ok := groups[group]["Exec"]
	if !ok {
		return Invocation{}, fmt.Errorf("%s: no Exec in [%s]", path, group)
	}
	args, err := ExecArgv(unescapeValue(line), files)
	if err != nil {
		return Invocation{}, fmt.Errorf("%s [%s]: %w", path, group, err)
	}
	return Invocation{Args: args}, nil
}

func thunarCommand(path string, files []string) (Invocation, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Invocation{}, err
	}
	// A snippet holds one <action>; uca.xml wraps them in <actions>.
	var one struct {
		XMLName xml.Name
		Command string `xml:"command"`
		Actions []struct {
			Command string `xml:"command"`
		} `xml:"action"`
	}
	if err := xml.Unmarshal(data, &one); err != nil {
		return Invocation{}, fmt.Errorf("%s: %w", path, err)
	}
	line := one.Command
	if one.XMLName.Local == "actions" && len(one.Actions) > 0 {
		line = one.Actions[0].Command
	}
	if line == "" {
		return Invocation{}, fmt.Errorf("%s: no <command> in an <action>", path)
	}
	args, err := ShellArgv(line, files, "fFuUdDnN")
	if err != nil {
		return Invocation{}, fmt.Errorf("%s: %w", path, err)
	}
	return Invocation{Args: args}, nil
}

// readKeyFile parses a desktop-entry style key file: groups of Key=Value
// lines. Localised keys (Name[de]) are kept under their full name.
func readKeyFile(path string) (map[string]map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	groups := map[string]map[string]string{}
	var cur map[string]string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			name := line[1 : len(line)-1]
			if groups[name] != nil {
				return nil, fmt.Errorf("%s:%d: group [%s] twice", path, n, name)
			}
			cur = map[string]string{}
			groups[name] = cur
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || cur == nil {
				return nil, fmt.Errorf("%s:%d: not a key=value line in a group", path, n)
			}
			cur[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return groups, sc.Err()
}

// unescapeValue undoes the string escapes of the Desktop Entry spec (\s \n
// \t \r \\), which apply before Exec's own quoting rules.
func unescapeValue(v string) string {
	if !strings.Contains(v, `\`) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '\\' || i+1 == len(v) {
			b.WriteByte(v[i])
			continue
		}
		i++
		switch v[i] {
		case 's':
			b.WriteByte(' ')
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case '\\':
			b.WriteByte('\\')
		default: // not an escape of this layer: leave it for Exec quoting
			b.WriteByte('\\')
			b.WriteByte(v[i])
		}
	}
	return b.String()
}

// reservedInExec are the characters the Desktop Entry spec allows in an Exec
// argument only inside double quotes.
const reservedInExec = "\t\n\"'\\><~|&;$*?#()`"

// ExecArgv splits a desktop entry's Exec value (already unescaped) into argv
// per the Desktop Entry spec, expanding %f/%F to paths, %u/%U to file URIs,
// %% to %, and dropping %i, %c, %k and the deprecated codes.
func ExecArgv(line string, files []string) ([]string, error) {
	var (
		args    []string
		cur     strings.Builder
		inArg   bool // cur holds an argument, possibly empty ("")
		quoted  bool
		dropArg bool // the argument was a lone %f/%u with no file: omit it
	)
	flush := func() {
		if inArg && !(dropArg && cur.Len() == 0) {
			args = append(args, cur.String())
		}
		cur.Reset()
		inArg, dropArg = false, false
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		if quoted {
			switch c {
			case '"':
				quoted = false
			case '\\':
				if i+1 == len(line) || !strings.ContainsRune("\"`$\\", rune(line[i+1])) {
					return nil, fmt.Errorf("exec %q: backslash must escape \" ` $ or \\ inside quotes", line)
				}
				i++
				cur.WriteByte(line[i])
			default:
				cur.WriteByte(c)
			}
			continue
		}
		switch {
		case c == ' ':
			flush()
		case c == '"':
			quoted, inArg = true, true
		case c == '%':
			if i+1 == len(line) {
				return nil, fmt.Errorf("exec %q: lone %% at the end", line)
			}
			i++
			code := line[i]
			switch code {
			case '%':
				cur.WriteByte('%')
				inArg = true
			case 'f', 'u':
				if len(files) > 0 {
					cur.WriteString(fieldValue(code, files[0]))
				} else {
					dropArg = true
				}
				inArg = true
			case 'F', 'U':
				if cur.Len() > 0 || (i+1 < len(line) && line[i+1] != ' ') {
					return nil, fmt.Errorf("exec %q: %%%c must be an argument of its own", line, code)
				}
				for _, f := range files {
					args = append(args, fieldValue(code, f))
				}
				inArg = false
			case 'i', 'c', 'k', 'd', 'D', 'n', 'N', 'v', 'm':
				// No icon, name or location to give; deprecated codes are removed.
				dropArg = true
				inArg = true
			default:
				return nil, fmt.Errorf("exec %q: unknown field code %%%c", line, code)
			}
		case strings.IndexByte(reservedInExec, c) >= 0:
			return nil, fmt.Errorf("exec %q: reserved character %q outside quotes", line, c)
		default:
			cur.WriteByte(c)
			inArg = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("exec %q: unterminated quote", line)
	}
	flush()
	if len(args) == 0 {
		return nil, fmt.Errorf("exec %q: no program", line)
	}
	return args, nil
}

// ShellArgv expands the field codes allowed (a subset of "fFuUPdDnN") in a
// Nemo or Thunar command line, each value shell-quoted as those file managers
// do, then splits the line like g_shell_parse_argv: blanks separate words,
// '...' is literal, "..." allows \" \\ \$ \`, and a backslash outside quotes
// escapes the next character. There is no other expansion.
func ShellArgv(line string, files []string, allowed string) ([]string, error) {
	var b strings.Builder
	for i := 0; i < len(line); i++ {
		if line[i] != '%' {
			b.WriteByte(line[i])
			continue
		}
		if i+1 == len(line) {
			return nil, fmt.Errorf("command %q: lone %% at the end", line)
		}
		i++
		code := line[i]
		if code == '%' {
			b.WriteByte('%')
			continue
		}
		if !strings.ContainsRune(allowed, rune(code)) {
			return nil, fmt.Errorf("command %q: unsupported field code %%%c", line, code)
		}
		var values []string
		switch code {
		case 'f', 'u', 'd', 'n':
			if len(files) > 0 {
				values = []string{fieldValue(code, files[0])}
			}
		default:
			for _, f := range files {
				values = append(values, fieldValue(code, f))
			}
		}
		for j, v := range values {
			if j > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(shellQuote(v))
		}
	}
	return splitShellWords(b.String())
}

func fieldValue(code byte, file string) string {
	switch code {
	case 'u', 'U':
		return (&url.URL{Scheme: "file", Path: file}).String()
	case 'd', 'D', 'P':
		return filepath.Dir(file)
	case 'n', 'N':
		return filepath.Base(file)
	}
	return file
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func splitShellWords(s string) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		inW   bool
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inW {
				words = append(words, cur.String())
				cur.Reset()
				inW = false
			}
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("command %q: unterminated '", s)
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inW = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`\n", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i == len(s) {
				return nil, fmt.Errorf("command %q: unterminated \"", s)
			}
			inW = true
		case c == '\\':
			if i+1 == len(s) {
				return nil, fmt.Errorf("command %q: trailing backslash", s)
			}
			i++
			if s[i] != '\n' { // backslash-newline joins lines
				cur.WriteByte(s[i])
			}
			inW = true
		default:
			cur.WriteByte(c)
			inW = true
		}
	}
	if inW {
		words = append(words, cur.String())
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("command %q: no program", s)
	}
	return words, nil
}
