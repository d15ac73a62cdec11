//go:build nogui

package cli

import "errors"

func (c *cli) gui(args []string) error {
	return errors.New("this build has no desktop app (built with -tags nogui); run `peerdesk daemon` instead")
}

func (c *cli) sendToGUI([]string) error {
	return usagef("this build has no desktop app to ask which peer (built with -tags nogui); name it: `peerdesk send PEER FILE...`")
}
