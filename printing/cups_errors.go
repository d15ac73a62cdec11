//go:build !windows

package printing

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/phin1x/go-ipp"
)

// ippStatusWords names IPP status codes for people, after RFC 8011
// section 4.1.6 and the IANA registry. Codes are written as numbers: some of
// go-ipp's names for 0x040f-0x0412 are off by one against the RFC.
var ippStatusWords = map[int16]string{
	0x0400: "bad request",
	0x0401: "forbidden",
	0x0402: "not authenticated",
	0x0403: "not authorized",
	0x0404: "not possible",
	0x0405: "timeout",
	0x0406: "not found",
	0x0407: "gone",
	0x0408: "request too large",
	0x0409: "value too long",
	0x040a: "document format not supported",
	0x040b: "attributes or values not supported",
	0x040c: "URI scheme not supported",
	0x040d: "charset not supported",
	0x040e: "conflicting attributes",
	0x040f: "compression not supported",
	0x0410: "compression error",
	0x0411: "document format error",
	0x0412: "document access error",
	0x0500: "internal error",
	0x0501: "operation not supported",
	0x0502: "service unavailable",
	0x0503: "IPP version not supported",
	0x0504: "device error",
	0x0505: "temporary error",
	0x0506: "not accepting jobs",
	0x0507: "busy",
	0x0508: "job canceled",
	0x0509: "multiple documents not supported",
	0x050a: "printer deactivated",
	0x050b: "too many jobs",
	0x050c: "too many documents",
}

// statusWords names an IPP status for people.
func statusWords(status int16) string {
	if w, ok := ippStatusWords[status]; ok {
		return w
	}
	return fmt.Sprintf("IPP status %#04x", uint16(status))
}

// statusSentinel maps an IPP status code to a sentinel error: ErrRefused
// for the statuses no other sentinel covers.
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
	return ErrRefused
}

// mapIPPError classifies an error from go-ipp's HTTP adapter with errors.As on
// its error types: an IPP status or an HTTP status (cupsd answered: a
// *SpoolerError with its words), or a transport failure (cupsd not
// listening, connection reset: nothing answered), which means
// ErrUnavailable.
func mapIPPError(server string, target opTarget, err error) error {
	var status ipp.IPPError
	if errors.As(err, &status) {
		return &SpoolerError{Sentinel: statusSentinel(status.Status, target), Status: statusWords(status.Status),
			Message: status.Message, Err: status}
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
			sentinel = ErrRefused
		}
		return fmt.Errorf("cupsd at %s: %w", server, &SpoolerError{Sentinel: sentinel,
			Status: fmt.Sprintf("HTTP %d %s", httpErr.Code, http.StatusText(httpErr.Code)), Err: err})
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return fmt.Errorf("cupsd at %s: %w: %w", server, ErrUnavailable, err)
	}
	return fmt.Errorf("cupsd at %s: %w", server, err)
}
