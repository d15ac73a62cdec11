//go:build darwin

package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
)

// portalPick asks the Finder's own file panel, through osascript (no cgo
// beyond Fyne's): several files at once, or a folder, titled with the
// destination. A canceled panel returns no paths.
func portalPick(ctx context.Context, p pickRequest) ([]string, error) {
	osascript, err := exec.LookPath("osascript")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNoPortal, err)
	}
	cmd := exec.CommandContext(ctx, osascript, "-e", appleScriptChooser(p))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && appleScriptCanceled(stderr.String()) {
			return nil, nil
		}
		return nil, fmt.Errorf("file chooser: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	return appleScriptPaths(stdout.String()), nil
}
