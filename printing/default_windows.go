//go:build windows

package printing

// Default returns the backend of this OS: the Windows spooler, with no extra
// raw formats and default timeouts.
func Default() (Backend, error) {
	return NewWinspool(WinspoolConfig{})
}
