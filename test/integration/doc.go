// Package integration runs the real peerdesk binary on the network-namespace
// test bed (test/netns): several peers on one virtual LAN, each with its own
// home, driven through the CLI as a user or a script would.
package integration
