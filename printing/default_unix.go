//go:build !windows

package printing

// Default returns the backend of this OS: CUPS at $CUPS_SERVER, else
// localhost:631, with default timeouts.
func Default() (Backend, error) {
	return NewCUPS(CUPSConfig{})
}
