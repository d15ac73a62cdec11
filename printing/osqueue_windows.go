//go:build windows

package printing

import (
	"context"
	"os/exec"
	"strings"
	"time"
)

// On Windows the system printer standing for a shared printer of another
// peer is an IPP printer with the Microsoft IPP Class Driver (Windows 10
// 2004 and later), added with PowerShell's Add-Printer -IppURL: every
// application's print dialog lists it. docs/printing.md has the same steps
// by hand.

const adminTimeout = 2 * time.Minute

// psQuote quotes s for a single-quoted PowerShell string.
func psQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func powershell(ctx context.Context, what, name, script string) error {
	ctx, cancel := context.WithTimeout(ctx, adminTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "powershell.exe", "-NoProfile", "-NonInteractive", "-Command", script)
	if out, err := cmd.CombinedOutput(); err != nil {
		return osQueueErr(what, name, out, err)
	}
	return nil
}

// AddOSQueue adds (or replaces) the IPP printer name at uri.
func AddOSQueue(ctx context.Context, name, uri, info, location string) error {
	if err := checkQueueName(name); err != nil {
		return err
	}
	script := "$ErrorActionPreference='Stop'; " +
		"if (Get-Printer -Name " + psQuote(name) + " -ErrorAction SilentlyContinue) { Remove-Printer -Name " + psQuote(name) + " }; " +
		"Add-Printer -Name " + psQuote(name) + " -IppURL " + psQuote(uri) + "; " +
		"Set-Printer -Name " + psQuote(name) + " -Comment " + psQuote(info) + " -Location " + psQuote(location)
	return powershell(ctx, "add printer", name, script)
}

// RemoveOSQueue removes the printer name.
func RemoveOSQueue(ctx context.Context, name string) error {
	if err := checkQueueName(name); err != nil {
		return err
	}
	return powershell(ctx, "remove printer", name,
		"$ErrorActionPreference='Stop'; Remove-Printer -Name "+psQuote(name))
}

// SetOSQueueState: Windows has no stopped-with-message state a program may
// set on a printer; the state shows in the printer's comment, which the
// print dialog displays, and new jobs are held there by the endpoint.
func SetOSQueueState(ctx context.Context, name, stopped string, reject bool) error {
	if err := checkQueueName(name); err != nil {
		return err
	}
	comment := "Shared through Peerdesk"
	if stopped != "" {
		comment = stopped
	}
	return powershell(ctx, "set printer comment", name,
		"$ErrorActionPreference='Stop'; Set-Printer -Name "+psQuote(name)+" -Comment "+psQuote(comment))
}
