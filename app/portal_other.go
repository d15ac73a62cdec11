//go:build !linux && !darwin && !windows

package app

import "context"

// portalPick: on the BSDs, Fyne's dialog is used.
func portalPick(context.Context, pickRequest) ([]string, error) { return nil, errNoPortal }
