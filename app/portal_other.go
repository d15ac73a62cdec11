//go:build !linux

package app

import "context"

// portalPick: elsewhere than on Linux, Fyne's dialog is used for now
// (the Windows and macOS pickers are not wired yet).
func portalPick(context.Context, pickRequest) ([]string, error) { return nil, errNoPortal }
