//go:build !windows

package printing

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/phin1x/go-ipp"
)

// ippStatusError is a non-successful IPP status from cupsd, tied to the
// sentinel it means for peerdesk (nil when none fits). errors.Is finds the
// sentinel, errors.As finds the ipp.IPPError.
type ippStatusError struct {
	sentinel error
	status   ipp.IPPError
}

func (e *ippStatusError) Error() string {
	msg := fmt.Sprintf("cupsd: %s (IPP status %#04x)", e.status.Message, uint16(e.status.Status))
	if e.sentinel != nil {
		return e.sentinel.Error() + ": " + msg
	}
	return msg
}

func (e *ippStatusError) Unwrap() []error {
	if e.sentinel == nil {
		return []error{e.status}
	}
	return []error{e.sentinel, e.status}
}

// statusSentinel maps an IPP status code to a sentinel error.
func statusSentinel(status int16, target opTarget) error {
	switch status {
	case ipp.StatusErrorNotFound, ipp.StatusErrorGone:
		if target == targetJob {
			return ErrJobVanished
		}
		return ErrQueueNotFound
	case ipp.StatusErrorNotAcceptingJobs, ipp.StatusErrorPrinterIsDeactivated:
		return ErrQueueRejecting
	case ipp.StatusErrorDocumentFormatNotSupported:
		return ErrUnsupportedFormat
	case ipp.StatusErrorForbidden, ipp.StatusErrorNotAuthenticated, ipp.StatusErrorNotAuthorized:
		return ErrNotAuthorized
	case ipp.StatusErrorServiceUnavailable, ipp.StatusErrorBusy, ipp.StatusErrorTemporary:
		return ErrUnavailable
	}
	return nil
}

// mapIPPError classifies an error from go-ipp's HTTP adapter with errors.As on
// its error types: an IPP status, an HTTP status, or a transport failure
// (cupsd not listening, connection reset), which means ErrUnavailable.
func mapIPPError(server string, target opTarget, err error) error {
	var status ipp.IPPError
	if errors.As(err, &status) {
		return &ippStatusError{sentinel: statusSentinel(status.Status, target), status: status}
	}
	var httpErr ipp.HTTPError
	if errors.As(err, &httpErr) {
		var sentinel error
		switch {
		case httpErr.Code == http.StatusUnauthorized, httpErr.Code == http.StatusForbidden:
			sentinel = ErrNotAuthorized
		case httpErr.Code == http.StatusNotFound && target == targetJob:
			sentinel = ErrJobVanished
		case httpErr.Code == http.StatusNotFound:
			sentinel = ErrQueueNotFound
		case httpErr.Code >= 500:
			sentinel = ErrUnavailable
		default:
			return fmt.Errorf("cupsd at %s: %w", server, err)
		}
		return fmt.Errorf("cupsd at %s: %w: %w", server, sentinel, err)
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return fmt.Errorf("cupsd at %s: %w: %w", server, ErrUnavailable, err)
	}
	return fmt.Errorf("cupsd at %s: %w", server, err)
}
