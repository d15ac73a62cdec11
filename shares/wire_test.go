package shares

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/peerdesk/peerdesk/transport"
)

// FuzzDecodeRequests feeds arbitrary bodies to every request decoder and
// validator the service uses: never a panic, and what validates is sane.
func FuzzDecodeRequests(f *testing.F) {
	sum := strings.Repeat("ab", 32)
	for _, s := range []string{
		`{}`, `null`, `[]`, `{"auth":{"user":"a","password":"b"},"share":"s","path":"../x"}`,
		`{"share":"s","path":"a","offset":-1,"length":5}`,
		`{"share":"s","path":"a","size":10,"sha256":"` + sum + `","offset":3,"mtime":"2026-01-01T00:00:00Z","replace":true}`,
		`{"files":[{"name":"a/b","size":1,"sha256":"` + sum + `"}],"total":1}`,
		`{"files":[{"name":"a","size":1,"sha256":"` + sum + `"},{"name":"a/b","size":1,"sha256":"` + sum + `"}],"total":2}`,
		`{"offer_id":"x","index":0,"offset":0}`, `{"pattern":"*.pdf"}`, `{"files_bytes":99999999999}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := transport.Request{Op: "x", Body: body}
		if r, err := decode[readRequest](req); err == nil && r.validate() == nil {
			if r.Offset < 0 || r.Length < 0 {
				t.Fatalf("read request %+v validated", r)
			}
		}
		if r, err := decode[putRequest](req); err == nil && r.validate(OpPutData) == nil {
			if r.Size < 0 || r.Offset < 0 || r.Offset > r.Size || len(r.SHA256) != 64 {
				t.Fatalf("put request %+v validated", r)
			}
			if _, err := resolve("s", r.Path, r.Hidden); err == nil {
				_ = tempPath(joinRel("", "x"), strings.ToLower(r.SHA256))
			}
		}
		if r, err := decode[offerRequest](req); err == nil && validateOffer(&r) == nil {
			var total int64
			for _, f := range r.Files {
				if c, err := CleanPath(f.Name); err != nil || c != f.Name || c == "" || f.Size < 0 {
					t.Fatalf("offer file %+v validated", f)
				}
				total += f.Size
			}
			if total != r.Total || len(r.Files) == 0 || len(r.Files) > MaxOfferFiles {
				t.Fatalf("offer %+v validated", r)
			}
		}
		if r, err := decode[sendDataRequest](req); err == nil && r.validate(3) == nil {
			if r.Index < 0 || r.Index >= 3 || r.Offset < 0 {
				t.Fatalf("send.data %+v validated", r)
			}
		}
		if r, err := decode[searchRequest](req); err == nil && r.validate() == nil {
			if m, err := nameMatcher(r.Pattern); err == nil {
				m("some-file.PDF")
			}
		}
		_, _ = decode[pathRequest](req)
		_, _ = decode[authRequest](req)
	})
}

// FuzzDecodeListHead: the client's decoder of list answers accepts only a
// list or a bounded body marker.
func FuzzDecodeListHead(f *testing.F) {
	for _, s := range []string{`[]`, `[{"name":"a"}]`, `{"body_bytes":100}`, `{"body_bytes":-1}`, `{"body_bytes":1e30}`, `null`, ``, `"x"`, `{`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		inline, n, err := decodeListHead(raw)
		if err != nil {
			if !errors.Is(err, transport.ErrProtocol) {
				t.Fatalf("error %v is not a protocol error", err)
			}
			return
		}
		if inline == nil && (n <= 0 || n > MaxListBytes) {
			t.Fatalf("body of %d bytes accepted", n)
		}
		if inline != nil && n != 0 {
			t.Fatal("both inline and body")
		}
	})
}

func TestValidateOffer(t *testing.T) {
	sum := strings.Repeat("0", 64)
	ok := offerRequest{Files: []OfferFile{{Name: "a.txt", Size: 3, SHA256: sum}, {Name: "dir/b.txt", Size: 4, SHA256: sum}}, Total: 7}
	if err := validateOffer(&ok); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]offerRequest{
		"empty":        {},
		"wrong total":  {Files: []OfferFile{{Name: "a", Size: 3, SHA256: sum}}, Total: 4},
		"dot-dot":      {Files: []OfferFile{{Name: "../a", Size: 0, SHA256: sum}}},
		"absolute":     {Files: []OfferFile{{Name: "/a", Size: 0, SHA256: sum}}},
		"temp name":    {Files: []OfferFile{{Name: "d/.peerdesk-0000000000000000.part", Size: 0, SHA256: sum}}},
		"duplicate":    {Files: []OfferFile{{Name: "a", SHA256: sum}, {Name: "d/../a", SHA256: sum}}},
		"file as dir":  {Files: []OfferFile{{Name: "Dir", SHA256: sum}, {Name: "dir/x", SHA256: sum}}},
		"huge":         {Files: []OfferFile{{Name: "a", Size: MaxFileSize + 1, SHA256: sum}}, Total: MaxFileSize + 1},
		"bad checksum": {Files: []OfferFile{{Name: "a", SHA256: "zz"}}},
		"hidden file":  {Files: []OfferFile{{Name: ".profile", SHA256: sum}}},
		"hidden dir":   {Files: []OfferFile{{Name: ".ssh/authorized_keys", SHA256: sum}}},
		"hidden below": {Files: []OfferFile{{Name: "project/.git/hooks/pre-commit", SHA256: sum}}},
	} {
		if err := validateOffer(&r); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestListAnswerShapes(t *testing.T) {
	small := []Entry{{Name: "a"}}
	b, _ := json.Marshal(small)
	inline, n, err := decodeListHead(b)
	if err != nil || n != 0 || string(inline) != string(b) {
		t.Fatalf("inline: %s %d %v", inline, n, err)
	}
	_, n, err = decodeListHead([]byte(`{"body_bytes":12345}`))
	if err != nil || n != 12345 {
		t.Fatalf("marker: %d %v", n, err)
	}
}
