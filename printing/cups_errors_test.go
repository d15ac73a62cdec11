//go:build !windows

package printing

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"
	"testing"

	"github.com/phin1x/go-ipp"
)

// adapterError wraps an IPP status the way go-ipp's HttpAdapter does.
func adapterError(status int16, msg string) error {
	return fmt.Errorf("received error IPP response: %w", ipp.IPPError{Status: status, Message: msg})
}

func TestMapIPPError(t *testing.T) {
	dialErr := &url.Error{Op: "Post", URL: "http://localhost:631/", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	tests := []struct {
		name   string
		err    error
		target opTarget
		want   error // nil: no sentinel
	}{
		{"queue not found", adapterError(ipp.StatusErrorNotFound, "The printer or class does not exist."), targetQueue, ErrQueueNotFound},
		{"job not found means vanished", adapterError(ipp.StatusErrorNotFound, "Job #7 does not exist."), targetJob, ErrJobVanished},
		{"gone", adapterError(ipp.StatusErrorGone, ""), targetJob, ErrJobVanished},
		{"not accepting 0x0506", adapterError(0x0506, "Destination is not accepting jobs."), targetQueue, ErrQueueRejecting},
		{"deactivated", adapterError(ipp.StatusErrorPrinterIsDeactivated, ""), targetQueue, ErrQueueRejecting},
		{"format not supported", adapterError(ipp.StatusErrorDocumentFormatNotSupported, "Unsupported document-format"), targetQueue, ErrUnsupportedFormat},
		{"forbidden", adapterError(ipp.StatusErrorForbidden, ""), targetQueue, ErrNotAuthorized},
		{"not authorized", adapterError(ipp.StatusErrorNotAuthorized, ""), targetJob, ErrNotAuthorized},
		{"busy", adapterError(ipp.StatusErrorBusy, ""), targetServer, ErrUnavailable},
		{"bad request has no sentinel", adapterError(ipp.StatusErrorBadRequest, "bad"), targetQueue, nil},
		{"http 401", ipp.HTTPError{Code: 401}, targetQueue, ErrNotAuthorized},
		{"http 404 queue", ipp.HTTPError{Code: 404}, targetQueue, ErrQueueNotFound},
		{"http 404 job", ipp.HTTPError{Code: 404}, targetJob, ErrJobVanished},
		{"http 503", ipp.HTTPError{Code: 503}, targetServer, ErrUnavailable},
		{"http 426 has no sentinel", ipp.HTTPError{Code: 426}, targetServer, nil},
		{"connection refused", dialErr, targetServer, ErrUnavailable},
		{"decode error has no sentinel", errors.New("unexpected EOF"), targetQueue, nil},
	}
	sentinels := []error{ErrQueueNotFound, ErrQueueRejecting, ErrUnsupportedFormat, ErrJobVanished, ErrUnavailable, ErrNotAuthorized}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mapIPPError("localhost:631", tt.target, tt.err)
			for _, s := range sentinels {
				if errors.Is(got, s) != (s == tt.want) {
					t.Errorf("errors.Is(%v, %v) = %v", got, s, !(s == tt.want))
				}
			}
			// The library's error stays reachable.
			var status ipp.IPPError
			var wantStatus ipp.IPPError
			if errors.As(tt.err, &wantStatus) {
				if !errors.As(got, &status) || status != wantStatus {
					t.Errorf("errors.As(%v) lost the IPP status %#04x", got, wantStatus.Status)
				}
				if wantStatus.Message != "" && !strings.Contains(got.Error(), wantStatus.Message) {
					t.Errorf("message %q lost cupsd's %q", got, wantStatus.Message)
				}
			}
		})
	}
}

func TestParseCUPSServer(t *testing.T) {
	tests := []struct {
		in      string
		want    cupsEndpoint
		wantErr bool
	}{
		{"", cupsEndpoint{host: "localhost", port: 631}, false},
		{"printhost", cupsEndpoint{host: "printhost", port: 631}, false},
		{"printhost:8631", cupsEndpoint{host: "printhost", port: 8631}, false},
		{"127.0.0.1:631/version=1.1", cupsEndpoint{host: "127.0.0.1", port: 631}, false},
		{"[::1]:631", cupsEndpoint{host: "[::1]", port: 631}, false},
		{"::1", cupsEndpoint{host: "[::1]", port: 631}, false},
		{"/run/cups/cups.sock", cupsEndpoint{socket: "/run/cups/cups.sock"}, false},
		{"host:0", cupsEndpoint{}, true},
		{"host:http", cupsEndpoint{}, true},
		{"a b:631", cupsEndpoint{}, true},
	}
	for _, tt := range tests {
		got, err := parseCUPSServer(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("parseCUPSServer(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestStateMessage(t *testing.T) {
	tests := []struct {
		msg     string
		reasons []string
		want    string
	}{
		{"", []string{"none"}, ""},
		{"Paused", []string{"paused"}, "Paused"},
		{"toner low", []string{"paused"}, "toner low (paused)"},
		{"", []string{"media-empty-error", "none"}, "media-empty-error"},
		{"The printer may not exist or is unavailable at this time.", nil, "The printer may not exist or is unavailable at this time."},
	}
	for _, tt := range tests {
		if got := stateMessage(tt.msg, tt.reasons); got != tt.want {
			t.Errorf("stateMessage(%q, %v) = %q, want %q", tt.msg, tt.reasons, got, tt.want)
		}
	}
}

func TestCheckQueueName(t *testing.T) {
	for _, ok := range []string{"PDF", "HP_LaserJet-4", "Büro"} {
		if err := checkQueueName(ok); err != nil {
			t.Errorf("checkQueueName(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a/b", "../admin", "a b", "a#b", "x\x00", strings.Repeat("q", 128)} {
		if err := checkQueueName(bad); !errors.Is(err, ErrQueueNotFound) {
			t.Errorf("checkQueueName(%q) = %v; want ErrQueueNotFound", bad, err)
		}
	}
}

func TestIPPName(t *testing.T) {
	long := strings.Repeat("ä", 200) // 400 octets
	got := ippName(long)
	if len(got) > 255 || !strings.HasPrefix(long, got) || len(got) != 254 {
		t.Errorf("ippName cut %d octets to %d", len(long), len(got))
	}
}
