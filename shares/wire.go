package shares

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/transport"
)

// Ops the Service answers (request and response bodies are JSON; see
// docs/protocol.md and the request types below).
const (
	OpSharesList = "shares.list"
	OpList       = "fs.list"
	OpStat       = "fs.stat"
	OpTree       = "fs.tree"
	OpRead       = "fs.read"
	OpMkdir      = "fs.mkdir"
	OpPutBegin   = "fs.put.begin"
	OpPutData    = "fs.put.data"
	OpSendOffer  = "send.offer"
	OpSendData   = "send.data"
	OpSearch     = "search"
	// OpChunks answers the SHA-256 of each ChunkSumSize chunk of a file,
	// so that a multi-source download checks each source's chunks.
	OpChunks = "fs.chunks"
)

// Limits of the file service.
const (
	// MaxListEntries caps a folder listing or tree.
	MaxListEntries = 200_000
	// MaxListBytes caps a listing's JSON when it travels as a body.
	MaxListBytes = 64 << 20
	// MaxSearchResults caps a search's hits per peer.
	MaxSearchResults = 1000
	// MaxOfferFiles caps the files of one push-send offer.
	MaxOfferFiles = 10_000
	// MaxFileSize caps one transferred file (1 TiB).
	MaxFileSize = 1 << 40
	// inlineLimit is the largest JSON answer sent inside the response frame;
	// larger ones follow it as a body.
	inlineLimit = transport.MaxRequestSize - 512
)

// Entry is one item of a folder listing (fs.list) or a stat (fs.stat,
// which adds the SHA-256 of a file).
type Entry struct {
	Name   string    `json:"name"`
	Size   int64     `json:"size"`
	Mtime  time.Time `json:"mtime"`
	Dir    bool      `json:"dir"`
	SHA256 string    `json:"sha256,omitempty"`
}

// TreeEntry is one item below a folder (fs.tree); Path is relative to the
// folder asked for, slash-separated.
type TreeEntry struct {
	Path  string    `json:"path"`
	Size  int64     `json:"size"`
	Mtime time.Time `json:"mtime"`
	Dir   bool      `json:"dir"`
}

// SearchHit is one file found by search.
type SearchHit struct {
	Share string    `json:"share"`
	Path  string    `json:"path"`
	Size  int64     `json:"size"`
	Mtime time.Time `json:"mtime"`
}

// ReadMeta answers fs.read: the file's size, mtime and (when the owner has
// it cached) SHA-256, and how many bytes follow as the body.
type ReadMeta struct {
	Size   int64     `json:"size"`
	Mtime  time.Time `json:"mtime"`
	SHA256 string    `json:"sha256,omitempty"`
	Length int64     `json:"length"`
}

// PutResult answers fs.put.data and send.data: the bytes the receiver now
// holds and, once complete and verified, the final name (which differs
// from the one asked for on a name conflict: "name (1).ext").
type PutResult struct {
	Offset   int64  `json:"offset"`
	Complete bool   `json:"complete"`
	Name     string `json:"name,omitempty"`
}

// OfferFile is one file of a push-send offer. Name is a base name or a
// relative tree path ("Photos/2024/a.jpg") that must pass CleanPath.
type OfferFile struct {
	Name   string    `json:"name"`
	Size   int64     `json:"size"`
	SHA256 string    `json:"sha256"`
	Mtime  time.Time `json:"mtime,omitzero"`
}

// OfferResult answers send.offer.
type OfferResult struct {
	Accepted bool   `json:"accepted"`
	OfferID  string `json:"offer_id,omitempty"`
	// Receiver is the receiving peer's display name.
	Receiver string `json:"receiver,omitempty"`
}

// authRequest is the body of shares.list.
type authRequest struct {
	Auth access.Credentials `json:"auth"`
	// All (shares.list): the shares the caller may not open too, locked.
	All bool `json:"all,omitempty"`
}

// pathRequest is the body of fs.list, fs.stat, fs.tree and fs.mkdir.
type pathRequest struct {
	Auth   access.Credentials `json:"auth"`
	Share  string             `json:"share"`
	Path   string             `json:"path"`
	Hidden bool               `json:"hidden,omitempty"`
}

// readRequest is the body of fs.read. Length 0 reads to the end.
type readRequest struct {
	pathRequest
	Offset int64 `json:"offset"`
	Length int64 `json:"length"`
	// Background asks the owner to send in background mode: the
	// receiver's transfers yield to other traffic.
	Background bool `json:"background,omitempty"`
}

// putRequest is the body of fs.put.begin and fs.put.data.
type putRequest struct {
	pathRequest
	Size    int64     `json:"size"`
	SHA256  string    `json:"sha256"`
	Mtime   time.Time `json:"mtime,omitzero"`
	Offset  int64     `json:"offset"`
	Replace bool      `json:"replace,omitempty"`
}

// offerRequest is the body of send.offer. A long file list travels as a
// body of FilesBytes bytes after the request instead of in Files.
type offerRequest struct {
	Files      []OfferFile `json:"files,omitempty"`
	Total      int64       `json:"total"`
	FilesBytes int64       `json:"files_bytes,omitempty"`
}

// ChunksMeta answers fs.chunks; Count sums of 32 bytes follow as a body.
type ChunksMeta struct {
	SHA256    string `json:"sha256"`
	Size      int64  `json:"size"`
	ChunkSize int64  `json:"chunk_size"`
	Count     int64  `json:"count"`
}

func (m ChunksMeta) validate() error {
	want := (m.Size + ChunkSumSize - 1) / ChunkSumSize
	if !validSHA256(m.SHA256) || m.Size < 0 || m.Size > MaxFileSize || m.ChunkSize != ChunkSumSize || m.Count != want {
		return protocolErr(OpChunks, "answer for %d bytes: %d chunks of %d", m.Size, m.Count, m.ChunkSize)
	}
	return nil
}

// sendDataRequest is the body of send.data.
type sendDataRequest struct {
	OfferID string `json:"offer_id"`
	Index   int    `json:"index"`
	Offset  int64  `json:"offset"`
}

// searchRequest is the body of search.
type searchRequest struct {
	Auth    access.Credentials `json:"auth"`
	Pattern string             `json:"pattern"`
}

// offsetResponse answers fs.put.begin, and is the "ready" answer of
// fs.put.data and send.data before the body.
type offsetResponse struct {
	Offset int64 `json:"offset"`
	// Background asks the sender of an upload to send in background
	// mode, as the receiving peer's setting says.
	Background bool `json:"background,omitempty"`
}

// bodyMarker replaces a JSON answer too large for a response frame: the
// answer follows as a body of BodyBytes bytes.
type bodyMarker struct {
	BodyBytes int64 `json:"body_bytes"`
}

func protocolErr(op, format string, a ...any) error {
	return fmt.Errorf("%w: %s: %s", transport.ErrProtocol, op, fmt.Sprintf(format, a...))
}

func (r *readRequest) validate() error {
	if r.Offset < 0 || r.Length < 0 || r.Offset > MaxFileSize || r.Length > MaxFileSize {
		return protocolErr(OpRead, "offset %d, length %d", r.Offset, r.Length)
	}
	return nil
}

func validSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

func (r *putRequest) validate(op string) error {
	if r.Size < 0 || r.Size > MaxFileSize {
		return protocolErr(op, "size %d", r.Size)
	}
	if r.Offset < 0 || r.Offset > r.Size {
		return protocolErr(op, "offset %d of %d", r.Offset, r.Size)
	}
	if !validSHA256(r.SHA256) {
		return protocolErr(op, "sha256 must be 64 hex digits")
	}
	return nil
}

func (r *sendDataRequest) validate(files int) error {
	if r.OfferID == "" || len(r.OfferID) > 64 {
		return protocolErr(OpSendData, "offer id")
	}
	if r.Index < 0 || r.Index >= files {
		return protocolErr(OpSendData, "file index %d of %d", r.Index, files)
	}
	if r.Offset < 0 {
		return protocolErr(OpSendData, "offset %d", r.Offset)
	}
	return nil
}

func (r *searchRequest) validate() error {
	if r.Pattern == "" || len(r.Pattern) > 256 {
		return protocolErr(OpSearch, "pattern must have 1 to 256 bytes")
	}
	return nil
}

// validateOffer checks an offer's file list and returns the names cleaned.
// Names must be unique (case-insensitively, as Windows and macOS see
// them), and no file may sit where another needs a folder.
func validateOffer(r *offerRequest) error {
	if len(r.Files) == 0 || len(r.Files) > MaxOfferFiles {
		return protocolErr(OpSendOffer, "offer must have 1 to %d files", MaxOfferFiles)
	}
	var total int64
	names := make(map[string]bool, len(r.Files))
	for i := range r.Files {
		f := &r.Files[i]
		clean, err := CleanPath(f.Name)
		if err != nil {
			return fmt.Errorf("%s: file %d: %w", OpSendOffer, i, err)
		}
		if clean == "" || isTempName(baseName(clean)) {
			return fmt.Errorf("%s: file %d: %w", OpSendOffer, i, badPath(f.Name, "not a file name"))
		}
		if hasHiddenPart(clean) {
			// A pushed file never lands under a hidden name: with an inbox
			// in a home, ".ssh/authorized_keys" or ".profile" would run
			// the sender's code. Senders skip hidden entries of folders.
			return fmt.Errorf("%s: file %d: %w", OpSendOffer, i, badPath(f.Name, "hidden names are not accepted"))
		}
		f.Name = clean
		if f.Size < 0 || f.Size > MaxFileSize {
			return protocolErr(OpSendOffer, "file %d: size %d", i, f.Size)
		}
		if !validSHA256(f.SHA256) {
			return protocolErr(OpSendOffer, "file %d: sha256 must be 64 hex digits", i)
		}
		total += f.Size
		key := lowerASCII(clean)
		if names[key] {
			return protocolErr(OpSendOffer, "file %d: %q offered twice", i, access.Shorten(clean))
		}
		names[key] = true
	}
	for i := range r.Files {
		for dir := parentRel(r.Files[i].Name); dir != ""; dir = parentRel(dir) {
			if names[lowerASCII(dir)] {
				return protocolErr(OpSendOffer, "file %d: %q is both a file and a folder", i, access.Shorten(dir))
			}
		}
	}
	if r.Total != total {
		return protocolErr(OpSendOffer, "total %d, files add up to %d", r.Total, total)
	}
	return nil
}

// hasHiddenPart reports whether a component of a cleaned path starts
// with a dot.
func hasHiddenPart(clean string) bool {
	for comp := range strings.SplitSeq(clean, "/") {
		if strings.HasPrefix(comp, ".") {
			return true
		}
	}
	return false
}

func lowerASCII(s string) string {
	return string(bytes.ToLower([]byte(s)))
}

func baseName(clean string) string {
	if i := lastSlash(clean); i >= 0 {
		return clean[i+1:]
	}
	return clean
}

func lastSlash(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}

// respondList answers with v's JSON: inside the response when it fits,
// else as a body after a bodyMarker response. After a body it waits for the
// requester to close the stream (the side that reads last closes first).
func respondList(ctx context.Context, s *transport.Stream, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if len(b) <= inlineLimit {
		return s.Respond(json.RawMessage(b))
	}
	if err := s.Respond(bodyMarker{BodyBytes: int64(len(b))}); err != nil {
		return err
	}
	if _, err := s.SendBody(ctx, bytes.NewReader(b)); err != nil {
		return err
	}
	awaitClose(ctx, s)
	return nil
}

// decodeListHead reads the response of a list-like op: either the JSON
// array itself, or a bodyMarker saying how long the body that carries it is.
func decodeListHead(raw []byte) (inline []byte, bodyBytes int64, err error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || bytes.Equal(raw, []byte("null")):
		return []byte("[]"), 0, nil
	case raw[0] == '[':
		return raw, 0, nil
	case raw[0] == '{':
		var m bodyMarker
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, 0, fmt.Errorf("%w: list response: %v", transport.ErrProtocol, err)
		}
		if m.BodyBytes <= 0 || m.BodyBytes > MaxListBytes {
			return nil, 0, fmt.Errorf("%w: list body of %d bytes", transport.ErrProtocol, m.BodyBytes)
		}
		return nil, m.BodyBytes, nil
	}
	return nil, 0, fmt.Errorf("%w: list response is neither a list nor a body marker", transport.ErrProtocol)
}

// awaitCloseTimeout bounds how long a server waits for the requester to
// close a stream after the last body.
const awaitCloseTimeout = 30 * time.Second

// awaitClose waits until the other side closes the stream (or sends
// anything else, or time runs out), so a body just written is not dropped
// by closing our side first.
func awaitClose(ctx context.Context, s *transport.Stream) {
	ctx, cancel := context.WithTimeout(ctx, awaitCloseTimeout)
	defer cancel()
	stop := s.Watch(ctx)
	defer stop()
	_, _ = s.ReadFrame()
}
