// Package netns is the network-namespace test bed: it builds a small LAN of
// Linux network namespaces joined by a bridge, runs real binaries on its
// hosts with separate homes, and tears everything down when the test ends.
//
// The bridge lives in its own "switch" namespace and every host namespace is
// wired to it by a veth pair created directly between the two namespaces, so
// a bed never adds, renames or addresses an interface in the machine's own
// network namespace. Beds are isolated from each other: two beds running at
// the same time (in one test process or in several) cannot see each other's
// traffic even if their subnets collide.
//
// A bed needs root and the ip tool (iproute2). Without them New skips the
// test, except when CI=true, where it fails it: CI must never silently skip
// the integration tests. See README.md beside this file for a walk-through.
package netns
