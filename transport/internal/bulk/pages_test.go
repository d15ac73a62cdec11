package bulk

import (
	"bytes"
	"testing"
)

func TestPagedRing(t *testing.T) {
	const chunk = 16000 // 8 chunks a page
	p := newPagedRing(20*chunk+500, chunk)
	if p.size != 20*chunk || p.pageBytes != 8*chunk || len(p.pages) != 3 {
		t.Fatalf("window of %d bytes in pages of %d, %d pages; want 20, 8 and 3 (the last shorter)", p.size, p.pageBytes, len(p.pages))
	}
	if p.held() != 0 {
		t.Fatalf("a new window holds %d bytes, want none", p.held())
	}
	fill := func(off int64) []byte { return bytes.Repeat([]byte{byte(off / chunk)}, chunk) }

	// A chunk in the third (short) page takes that page only.
	p.put(18*chunk, fill(18*chunk))
	if p.held() != 4*chunk || p.pages[2] == nil || len(p.pages[2]) != 4*chunk {
		t.Fatalf("one chunk in the last page: holds %d bytes, pages %v", p.held(), heldPages(p))
	}
	for off := int64(0); off < 18*chunk; off += chunk {
		p.put(off, fill(off))
	}
	// A span stops at its page's end.
	if got := p.span(5*chunk, 12*chunk); len(got) != 3*chunk || got[0] != 5 {
		t.Fatalf("span from chunk 5 to 12 is %d bytes, want 3 chunks (to the page's end)", len(got))
	}
	if got := p.span(9*chunk, 10*chunk); !bytes.Equal(got, fill(9*chunk)) {
		t.Fatalf("span of chunk 9 holds %d…, want chunk 9's bytes", got[:1])
	}

	// Clearing part of a page keeps it; clearing its last chunk frees it.
	clear := func(from, to int64) {
		for off := from; off < to; off += chunk {
			p.clear(off)
		}
	}
	clear(0, 7*chunk)
	if p.pages[0] == nil {
		t.Fatal("a page with a chunk still held was freed")
	}
	clear(7*chunk, 17*chunk)
	if got := heldPages(p); got != "..x" {
		t.Fatalf("after clearing up to chunk 17 pages held %s, want ..x", got)
	}
	// The next lap reuses the first page's slots while the last page
	// still holds this lap's end.
	p.put(20*chunk, fill(20*chunk))
	if got := heldPages(p); got != "x.x" || !bytes.Equal(p.span(20*chunk, 21*chunk), fill(20*chunk)) {
		t.Fatalf("after wrapping pages held %s", got)
	}
	clear(17*chunk, 20*chunk)
	if got := heldPages(p); got != "x.." {
		t.Fatalf("after clearing up to chunk 20 pages held %s, want x..", got)
	}
	if p.span(9*chunk, 10*chunk) != nil {
		t.Fatal("a span of a page not held returned bytes")
	}
	// One page holding two laps: the end of lap 1 (chunks 26, 27 are
	// pages[1]'s slots 6, 7) and the start of lap 2 (chunks 40, 41 are
	// slots 0, 1 of pages[0], which still holds chunk 20 of lap 1).
	p.put(41*chunk, fill(41*chunk))
	p.clear(20 * chunk)
	if p.pages[0] == nil || !bytes.Equal(p.span(41*chunk, 42*chunk), fill(41*chunk)) {
		t.Fatal("clearing lap 1's chunk freed the page lap 2's chunk is in")
	}
	p.close()
	if p.held() != 0 || p.used[0] != 0 {
		t.Fatalf("a closed window holds %s", heldPages(p))
	}
}

// A small window (a small body) is one page of just its size.
func TestPagedRingSmall(t *testing.T) {
	p := newPagedRing(3000, 1200)
	if p.size != 2400 || len(p.pages) != 1 {
		t.Fatalf("small window: %d bytes in %d pages, want 2400 in 1", p.size, len(p.pages))
	}
	p.put(1200, make([]byte, 1200))
	if len(p.pages[0]) != 2400 || p.held() != 2400 {
		t.Fatalf("small page is %d bytes, want 2400", len(p.pages[0]))
	}
	p.clear(1200)
	if p.held() != 0 {
		t.Fatal("small page kept after the window passed it")
	}
}

func heldPages(p pagedRing) string {
	var b []byte
	for _, pg := range p.pages {
		if pg != nil {
			b = append(b, 'x')
		} else {
			b = append(b, '.')
		}
	}
	return string(b)
}

// The sender's discipline: stretches filled from the body, pages freed by
// acknowledgement once it passes their end, no page holding two laps.
func TestPagedRingSender(t *testing.T) {
	const chunk = 16000
	b := &bulkSend{chunk: chunk, ring: newPagedRing(20*chunk, chunk), started: true}
	fillAll := func() {
		for b.space() > 0 {
			buf := b.ring.fill(b.readOff, b.space())
			for i := range buf {
				buf[i] = byte((b.readOff + int64(i)) / chunk)
			}
			b.readOff += int64(len(buf))
		}
	}
	fillAll()
	if b.readOff != 20*chunk || heldPages(b.ring) != "xxx" {
		t.Fatalf("filled %d bytes, pages %s; want the whole window", b.readOff, heldPages(b.ring))
	}
	ack := func(to int64) { b.ring.release(b.cumAck, to); b.cumAck = to }

	// Part of the first page acknowledged: it stays, and the next lap may
	// not start in it.
	ack(5 * chunk)
	if heldPages(b.ring) != "xxx" || b.space() != 0 {
		t.Fatalf("after 5 chunks acknowledged: pages %s, space %d; want all held and no space", heldPages(b.ring), b.space())
	}
	// The first page wholly acknowledged: freed, and its room is the next
	// lap's.
	ack(9 * chunk)
	if heldPages(b.ring) != ".xx" || b.space() != 8*chunk {
		t.Fatalf("after 9 chunks acknowledged: pages %s, space %d chunks; want .xx and 8", heldPages(b.ring), b.space()/chunk)
	}
	fillAll()
	if got := b.ring.span(20*chunk, 21*chunk); len(got) != chunk || got[0] != 20 {
		t.Fatalf("the next lap's first chunk reads %d bytes starting %v", len(got), got[:1])
	}
	if got := b.ring.span(9*chunk, 10*chunk); got[0] != 9 {
		t.Fatal("filling the next lap overwrote an unacknowledged chunk")
	}
	// Everything acknowledged at once, past the short last page and into
	// the next lap.
	ack(26 * chunk)
	if heldPages(b.ring) != "x.." {
		t.Fatalf("after 26 chunks acknowledged: pages %s, want x..", heldPages(b.ring))
	}
	b.end()
	if b.ring.held() != 0 {
		t.Fatal("an ended send holds pages")
	}
}

// held is the bytes of memory the window holds now.
func (p *pagedRing) held() int {
	n := 0
	for _, b := range p.pages {
		n += cap(b)
	}
	return n
}

// The pool's pages go to the collector once the peer is idle.
func TestDrainPages(t *testing.T) {
	for range 5 {
		putPage(make([]byte, pageCap))
	}
	if len(pagePool) == 0 {
		t.Fatal("pages not pooled")
	}
	DrainPages()
	if n := len(pagePool); n != 0 {
		t.Fatalf("%d pages still pooled", n)
	}
}
