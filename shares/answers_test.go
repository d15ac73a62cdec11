package shares

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/peerdesk/peerdesk/transport"
)

func TestAnswersValidated(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	tests := []struct {
		name string
		err  error
	}{
		{"ok", Entry{Name: "a.pdf", Size: 10, SHA256: sum}.validate()},
		{"negative size", Entry{Name: "a.pdf", Size: -1, SHA256: sum}.validate()},
		{"huge size", Entry{Name: "a.pdf", Size: MaxFileSize + 1}.validate()},
		{"slash in name", Entry{Name: "../a", Size: 1}.validate()},
		{"bad sum", Entry{Name: "a", Size: 1, SHA256: "xyz"}.validate()},
		{"tree negative", TreeEntry{Path: "a", Size: -5}.validate()},
		{"hit escapes", SearchHit{Share: "s", Path: "../../etc/passwd", Size: 1}.validate()},
		{"hit ok", SearchHit{Share: "s", Path: "a/b.txt", Size: 1}.validate()},
		{"read negative length", ReadMeta{Size: 10, Length: -1}.validate()},
	}
	for _, tt := range tests {
		wantOK := strings.HasSuffix(tt.name, "ok")
		if (tt.err == nil) != wantOK {
			t.Errorf("%s: %v", tt.name, tt.err)
		}
		if tt.err != nil && !errors.Is(tt.err, transport.ErrProtocol) {
			t.Errorf("%s: %v is not a protocol error", tt.name, tt.err)
		}
	}
}

// FuzzDecodeAnswers feeds any bytes to the decoders of a peer's answers
// (fs.stat, fs.list, fs.tree, fs.read, search) the way the client decodes
// them: nothing panics, and whatever passes validation is usable (sizes in
// range, paths clean).
func FuzzDecodeAnswers(f *testing.F) {
	for _, s := range []string{
		`{"name":"a","size":-1,"sha256":""}`,
		`[{"name":"a","size":3,"mtime":"2024-01-01T00:00:00Z","dir":false}]`,
		`[{"path":"a/b","size":9223372036854775807}]`,
		`{"size":10,"length":-4}`,
		`[{"share":"s","path":"../x","size":1}]`,
		`{"sha256":"` + strings.Repeat("a", 64) + `","size":16777217,"chunk_size":8388608,"count":3}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var e Entry
		if json.Unmarshal(data, &e) == nil && e.validate() == nil && (e.Size < 0 || e.Size > MaxFileSize) {
			t.Fatalf("entry %+v passed", e)
		}
		var list []Entry
		if json.Unmarshal(data, &list) == nil {
			_ = validateAll(OpList, list)
		}
		var tree []TreeEntry
		if json.Unmarshal(data, &tree) == nil && validateAll(OpTree, tree) == nil {
			for _, te := range tree {
				if te.Size < 0 {
					t.Fatalf("tree entry %+v passed", te)
				}
			}
		}
		var m ReadMeta
		if json.Unmarshal(data, &m) == nil && m.validate() == nil && (m.Length < 0 || m.Size < 0) {
			t.Fatalf("read meta %+v passed", m)
		}
		var cm ChunksMeta
		if json.Unmarshal(data, &cm) == nil && cm.validate() == nil && (cm.Count < 0 || cm.Count > MaxFileSize/ChunkSumSize+1 || cm.Count*ChunkSumSize < cm.Size) {
			t.Fatalf("chunks meta %+v passed", cm)
		}
		var hits []SearchHit
		if json.Unmarshal(data, &hits) == nil && validateAll(OpSearch, hits) == nil {
			for _, h := range hits {
				if _, err := CleanPath(h.Path); err != nil {
					t.Fatalf("hit %+v passed", h)
				}
			}
		}
	})
}
