//go:build !windows

package printing

// Default returns the backend of this OS: CUPS as libcups finds it
// ($CUPS_SERVER, else the system scheduler's domain socket, else
// localhost:631), with default timeouts.
func Default() (Backend, error) {
	return NewCUPS(CUPSConfig{})
}
