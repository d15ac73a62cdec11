package ippserve

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/phin1x/go-ipp"
)

// Limits on what a client may send before the document.
const (
	// maxHeaderBytes caps the IPP attributes of one request: real ones
	// are a few KiB; anything larger is an attack or a broken client.
	maxHeaderBytes = 256 << 10
	// maxAttributes caps the number of attribute values in one request.
	maxAttributes = 2000
)

// errBadRequest marks a request that is not well-formed IPP.
var errBadRequest = errors.New("malformed IPP request")

// attribute is one attribute of a request with all its values and the tag
// of its first value (IPP lets a client mix tags, e.g. keyword|name).
type attribute struct {
	tag    int8
	values []any
}

// group is one attribute group of a request, in the order the client sent
// its attributes.
type group struct {
	tag   int8
	names []string
	attrs map[string]*attribute
}

// request is a decoded IPP request without its document.
type request struct {
	major, minor int8
	op           int16
	id           int32
	groups       []*group
}

// limitedReader fails once more than max bytes were read, so a request
// cannot make the decoder buffer without bound.
type limitedReader struct {
	r   io.Reader
	n   int64
	max int64
}

// fullReader makes every Read fill its buffer or fail.
type fullReader struct{ r io.Reader }

func (f fullReader) Read(p []byte) (int, error) { return io.ReadFull(f.r, p) }

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n >= l.max {
		return 0, fmt.Errorf("%w: attributes longer than %d bytes", errBadRequest, l.max)
	}
	if rest := l.max - l.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, err
}

// readRequest decodes the IPP header and attribute groups from r with
// go-ipp's attribute decoder, leaving r at the first byte of the document.
// go-ipp's own request decoder keeps one value per attribute and forgets
// the groups' order and tags, which the checks of RFC 8011 need.
func readRequest(r io.Reader) (req *request, err error) {
	// go-ipp's decoder trusts the lengths it reads (a negative length
	// panics in make); a hostile client must get an error, not a crash.
	defer func() {
		if p := recover(); p != nil {
			req, err = nil, fmt.Errorf("%w: %v", errBadRequest, p)
		}
	}()
	// Every read is exact (go-ipp's decoder calls Read and trusts it to
	// fill the buffer) and never goes past the end tag: what follows in r
	// is the document.
	br := &limitedReader{r: fullReader{r}, max: maxHeaderBytes}
	req = &request{}
	for _, v := range []any{&req.major, &req.minor, &req.op, &req.id} {
		if err := binary.Read(br, binary.BigEndian, v); err != nil {
			return nil, fmt.Errorf("%w: header: %w", errBadRequest, err)
		}
	}
	dec := ipp.NewAttributeDecoder(br)
	var cur *group
	var last *attribute
	count := 0
	for {
		var b [1]byte
		_, err := io.ReadFull(br, b[:])
		tag := b[0]
		if err != nil {
			return nil, fmt.Errorf("%w: no end-of-attributes tag: %w", errBadRequest, err)
		}
		t := int8(tag)
		if t == ipp.TagDelimiterEnd {
			return req, nil
		}
		if t >= 0 && t < 0x10 {
			if t > ipp.TagDelimiterSystem || t == 0 {
				return nil, fmt.Errorf("%w: unknown group tag 0x%02x", errBadRequest, t)
			}
			cur = &group{tag: t, attrs: map[string]*attribute{}}
			req.groups = append(req.groups, cur)
			last = nil
			continue
		}
		if cur == nil {
			return nil, fmt.Errorf("%w: attribute before any group", errBadRequest)
		}
		if count++; count > maxAttributes {
			return nil, fmt.Errorf("%w: more than %d attribute values", errBadRequest, maxAttributes)
		}
		a, err := dec.Decode(t)
		if err != nil {
			return nil, fmt.Errorf("%w: attribute: %w", errBadRequest, err)
		}
		if a.Name == "" {
			if last == nil {
				return nil, fmt.Errorf("%w: additional value without attribute", errBadRequest)
			}
			last.values = append(last.values, a.Value)
			continue
		}
		if _, dup := cur.attrs[a.Name]; dup {
			return nil, fmt.Errorf("%w: attribute %s given twice", errBadRequest, a.Name)
		}
		last = &attribute{tag: t, values: []any{a.Value}}
		cur.attrs[a.Name] = last
		cur.names = append(cur.names, a.Name)
	}
}

// group returns the first group with tag, or an empty one.
func (r *request) group(tag int8) *group {
	for _, g := range r.groups {
		if g.tag == tag {
			return g
		}
	}
	return &group{tag: tag, attrs: map[string]*attribute{}}
}

func (r *request) op1() *group { return r.group(ipp.TagDelimiterOperation) }

// str returns the first value of a string-valued attribute.
func (g *group) str(name string) (string, bool) {
	a, ok := g.attrs[name]
	if !ok || len(a.values) == 0 {
		return "", false
	}
	s, ok := a.values[0].(string)
	return s, ok
}

// strs returns every value of a string-valued attribute.
func (g *group) strs(name string) []string {
	a, ok := g.attrs[name]
	if !ok {
		return nil
	}
	var out []string
	for _, v := range a.values {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// integer returns the first value of an integer attribute.
func (g *group) integer(name string) (int, bool) {
	a, ok := g.attrs[name]
	if !ok || len(a.values) == 0 || (a.tag != ipp.TagInteger && a.tag != ipp.TagEnum) {
		return 0, false
	}
	i, ok := a.values[0].(int)
	return i, ok
}

// boolean returns the value of a boolean attribute.
func (g *group) boolean(name string) (value, present bool) {
	a, ok := g.attrs[name]
	if !ok || len(a.values) == 0 {
		return false, false
	}
	b, ok := a.values[0].(bool)
	return b, ok
}

// ranges returns the values of a rangeOfInteger attribute.
func (g *group) ranges(name string) ([][2]int, bool) {
	a, ok := g.attrs[name]
	if !ok {
		return nil, false
	}
	var out [][2]int
	for _, v := range a.values {
		r, ok := v.([]int32)
		if !ok || len(r) != 2 {
			return nil, true
		}
		out = append(out, [2]int{int(r[0]), int(r[1])})
	}
	return out, true
}

// Out-of-band and binary values go-ipp's encoder has no type for are
// written as strings of their exact wire bytes under the right tag
// (attrTags): its string encoding is length + bytes, which is what RFC 8010
// prescribes for them.

// rangeOf is a rangeOfInteger value.
func rangeOf(lo, hi int) string {
	var b [8]byte
	binary.BigEndian.PutUint32(b[:4], uint32(int32(lo)))
	binary.BigEndian.PutUint32(b[4:], uint32(int32(hi)))
	return string(b[:])
}

// dpi is a resolution value in dots per inch.
func dpi(x, y int) string {
	var b [9]byte
	binary.BigEndian.PutUint32(b[:4], uint32(int32(x)))
	binary.BigEndian.PutUint32(b[4:8], uint32(int32(y)))
	b[8] = 3 // dots per inch
	return string(b[:])
}

// dateTime is an RFC 2579 DateAndTime value in UTC.
func dateTime(t time.Time) string {
	t = t.UTC()
	b := []byte{
		byte(t.Year() >> 8), byte(t.Year()), byte(t.Month()), byte(t.Day()),
		byte(t.Hour()), byte(t.Minute()), byte(t.Second()), byte(t.Nanosecond() / 100_000_000),
		'+', 0, 0,
	}
	return string(b)
}
