//go:build !windows

package printing

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	osuser "os/user"
	"strings"
	"sync"
	"testing"

	"github.com/phin1x/go-ipp"
)

// languageRecorder is an HTTP proxy in front of the real cupsd that notes
// the operation and natural language of every IPP request passing through.
type languageRecorder struct {
	mu    sync.Mutex
	calls []string // "op=language=requesting-user-name"
}

func (r *languageRecorder) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.calls...)
}

// startLanguageRecorder returns the proxy's host:port for CUPSConfig.Server.
func startLanguageRecorder(t *testing.T) (string, *languageRecorder) {
	t.Helper()
	return startIPPProxy(t, nil)
}

// startIPPProxy is a proxy in front of the real cupsd that records each
// request and, if rewrite is not nil, passes on rewrite(body) instead.
func startIPPProxy(t *testing.T, rewrite func([]byte) []byte) (string, *languageRecorder) {
	t.Helper()
	rec := &languageRecorder{}
	cupsd := &url.URL{Scheme: "http", Host: "localhost:631"}
	proxy := httputil.NewSingleHostReverseProxy(cupsd)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		// The document follows the attributes; the decoder stops before it.
		req, err := ipp.NewRequestDecoder(bytes.NewReader(body)).Decode(io.Discard)
		if err != nil {
			t.Errorf("proxy: undecodable IPP request: %v", err)
		} else {
			lang, _ := req.OperationAttributes[ipp.AttributeNaturalLanguage].(string)
			user, _ := req.OperationAttributes[ipp.AttributeRequestingUserName].(string)
			rec.mu.Lock()
			rec.calls = append(rec.calls, ippOpName(req.Operation)+"="+lang+"="+user)
			rec.mu.Unlock()
		}
		if rewrite != nil {
			body = rewrite(body)
			r.ContentLength = int64(len(body))
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.Host = "localhost:631"
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), rec
}

func ippOpName(op int16) string {
	switch op {
	case ipp.OperationCupsGetPrinters:
		return "CUPS-Get-Printers"
	case ipp.OperationGetPrinterAttributes:
		return "Get-Printer-Attributes"
	case ipp.OperationPrintJob:
		return "Print-Job"
	case ipp.OperationGetJobAttributes:
		return "Get-Job-Attributes"
	case ipp.OperationCancelJob:
		return "Cancel-Job"
	}
	return "op-" + string(rune('0'+op))
}

// TestCUPSEveryCallCarriesTheLocaleLanguage: list, submit, job state and
// cancel each send the user's locale as a lower-case natural language, and
// the real cupsd takes every one of them. With go-ipp's default "en-US"
// (the old behaviour) CUPS 2.4.2-3+deb12u10 answers bad-request to the
// first call.
func TestCUPSEveryCallCarriesTheLocaleLanguage(t *testing.T) {
	needCUPS(t)
	q := tempQueue(t, "language", "cups-pdf:/")
	// A disabled queue holds the job, so there is one to cancel.
	cupsTool(t, "cupsdisable", q)
	t.Cleanup(func() { _ = exec.Command("cupsenable", q).Run() })

	for _, tt := range []struct{ locale, want string }{
		{"de_DE.UTF-8", "de-de"},
		{"en_US.UTF-8", "en-us"},
		{"C.UTF-8", "en"},
	} {
		t.Run(tt.locale, func(t *testing.T) {
			t.Setenv("LC_ALL", tt.locale)
			server, rec := startLanguageRecorder(t)
			c, err := NewCUPS(CUPSConfig{Server: server})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Queues(t.Context()); err != nil {
				t.Fatalf("list: %v", err)
			}
			id := submitPDF(t, c, q)
			if st, err := c.Job(t.Context(), q, id); err != nil || st.State.Done() {
				t.Fatalf("job state: %s, %v; want the held job", st, err)
			}
			if err := c.Cancel(t.Context(), q, id); err != nil {
				t.Fatalf("cancel: %v", err)
			}
			if st, err := c.Job(t.Context(), q, id); err != nil || st.State != JobCanceled {
				t.Fatalf("after cancel: %s, %v; want canceled", st, err)
			}
			calls := rec.seen()
			ops := map[string]bool{}
			for _, call := range calls {
				f := strings.SplitN(call, "=", 3)
				op, lang, user := f[0], f[1], f[2]
				ops[op] = true
				if lang != tt.want {
					t.Errorf("%s carried natural language %q, want %q", op, lang, tt.want)
				}
				// cupsd 2.4.2-3+deb12u10 crashes on a Cancel-Job from a
				// name with no local account.
				if _, err := osuser.Lookup(user); op == "Cancel-Job" && err != nil {
					t.Errorf("Cancel-Job asked as %q, which is no local account: %v", user, err)
				}
			}
			for _, op := range []string{"CUPS-Get-Printers", "Get-Printer-Attributes", "Print-Job", "Get-Job-Attributes", "Cancel-Job"} {
				if !ops[op] {
					t.Errorf("no %s went through the proxy (saw %v)", op, calls)
				}
			}
		})
	}
}

// refusingCUPS is a backend whose every request the real cupsd refuses:
// a proxy swaps the request's charset for one no CUPS supports.
func refusingCUPS(t *testing.T) *CUPS {
	t.Helper()
	needCUPS(t)
	server, _ := startIPPProxy(t, func(body []byte) []byte {
		const attr = "attributes-charset\x00\x05"
		return bytes.Replace(body, []byte(attr+"utf-8"), []byte(attr+"x-bog"), 1)
	})
	c, err := NewCUPS(CUPSConfig{Server: server})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCUPSRefusalSaysWhatCUPSSaid: a request cupsd refuses surfaces as
// ErrRefused with the status in words and cupsd's own message, not as an
// unavailable spooler.
func TestCUPSRefusalSaysWhatCUPSSaid(t *testing.T) {
	_, err := refusingCUPS(t).Queues(t.Context())
	var se *SpoolerError
	var status ipp.IPPError
	switch {
	case !errors.Is(err, ErrRefused) || errors.Is(err, ErrUnavailable):
		t.Fatalf("list with a bad charset: %v; want ErrRefused and not ErrUnavailable", err)
	case !errors.As(err, &se) || se.Status != "charset not supported" || !strings.Contains(se.Message, "x-bog"):
		t.Fatalf("list with a bad charset: %#v; want charset not supported with cupsd's message", se)
	case !errors.As(err, &status) || status.Status != ipp.StatusErrorCharset:
		t.Fatalf("the ipp.IPPError is not reachable: %v", err)
	}
	t.Logf("cupsd said: %v", err)

	// Canceling a job that is over is refused as not possible, in words.
	c := newTestCUPS(t)
	q := tempQueue(t, "cancel-done", "cups-pdf:/")
	id := submitPDF(t, c, q)
	if st, err := c.Wait(t.Context(), q, id, nil); err != nil {
		t.Fatalf("wait: %s, %v", st, err)
	}
	err = c.Cancel(t.Context(), q, id)
	if !errors.Is(err, ErrRefused) || !errors.As(err, &se) || se.Status != "not possible" || se.Message == "" {
		t.Fatalf("cancel a completed job: %v; want ErrRefused, not possible, with cupsd's message", err)
	}
	t.Logf("cupsd said: %v", err)
}
