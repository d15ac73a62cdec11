//go:build nogui

package main

import "errors"

func (c *cli) gui(args []string) error {
	return errors.New("this build has no desktop app (built with -tags nogui); run `peerdesk daemon` instead")
}
