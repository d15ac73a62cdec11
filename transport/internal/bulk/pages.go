package bulk

import "sync/atomic"

// pageCap is the most bytes a window page holds. Small enough that a
// window costs about what is in flight, large enough that a page holds
// several chunks of the largest size.
const pageCap = 128 << 10

// pagePool keeps up to a window's worth of freed full-size pages for the
// next transfer; more go to the collector. Unbounded (a sync.Pool), the
// pages a flood of strangers' transfers freed stayed with the pool until
// the next GC, which an idle peer does not run.
var pagePool = make(chan []byte, 32)

func getPage() []byte {
	select {
	case b := <-pagePool:
		return b
	default:
		return make([]byte, pageCap)
	}
}

// DrainPages lets the collector have the pooled pages: the peer calls it
// once no transfer runs, so that an idle peer does not keep a window's
// worth (4 MiB) for the next one.
func DrainPages() {
	for {
		select {
		case <-pagePool:
		default:
			return
		}
	}
}

func putPage(b []byte) {
	select {
	case pagePool <- b:
	default:
	}
}

// pagedRing is a transfer window of whole chunks whose memory is held
// only where it holds data. A page is taken from the pool when a chunk
// lands in it and given back once none of its chunks is held, so an
// 4 MiB window costs what waits in it (on a LAN with a fast disk, a few
// pages) rather than 4 MiB for as long as the transfer runs. Offsets are the body's:
// the window maps offset off to off mod size.
//
// It is not safe for concurrent use; its owner's lock guards it. The
// bytes a page returns may be read outside that lock for as long as the
// owner keeps the window from moving past them.
type pagedRing struct {
	size      int64 // bytes: a whole number of chunks
	pageBytes int64 // bytes per page: a whole number of chunks
	pages     [][]byte
	used      []int32 // per page: chunks held
	// count, if set, adds up the bytes of the pages this ring holds, with
	// every other ring that shares it.
	count *atomic.Int64
}

// newPagedRing is a window of at most size bytes (at least one chunk), in
// whole chunks of chunk bytes.
func newPagedRing(size, chunk int) pagedRing {
	slots := max(1, size/chunk)
	perPage := max(1, min(slots, pageCap/chunk))
	return pagedRing{
		size:      int64(slots * chunk),
		pageBytes: int64(perPage * chunk),
		pages:     make([][]byte, (slots+perPage-1)/perPage),
		used:      make([]int32, (slots+perPage-1)/perPage),
	}
}

// page returns the page of offset off and where off is in it; with
// alloc, a page not held yet is taken (else it is nil).
func (p *pagedRing) page(off int64, alloc bool) ([]byte, int64) {
	pos := off % p.size
	i := pos / p.pageBytes
	if p.pages[i] == nil && alloc {
		// Pooled when large: a small body's window (a listing) takes
		// only what it needs.
		if n := p.pageLen(i); n > pageCap/2 && n <= pageCap {
			p.pages[i] = getPage()[:n]
		} else {
			p.pages[i] = make([]byte, n)
		}
		if p.count != nil {
			p.count.Add(int64(len(p.pages[i])))
		}
	}
	return p.pages[i], pos % p.pageBytes
}

// pageLen is the length of page i: the last one may be shorter.
func (p *pagedRing) pageLen(i int64) int64 { return min(p.pageBytes, p.size-i*p.pageBytes) }

// put copies b (at most a chunk) in at offset off, a chunk's offset in a
// slot not held: each put is matched by one clear.
func (p *pagedRing) put(off int64, b []byte) {
	pg, at := p.page(off, true)
	copy(pg[at:], b)
	p.used[off%p.size/p.pageBytes]++
}

// span returns the held bytes from offset off up to to, cut at the end of
// off's page; nil if that page is not held.
func (p *pagedRing) span(off, to int64) []byte {
	pg, at := p.page(off, false)
	if pg == nil {
		return nil
	}
	return pg[at:min(int64(len(pg)), at+(to-off))]
}

// clear marks the chunk at offset off delivered (or acknowledged): its
// page goes back once none of its chunks is held. A page may hold the end
// of one lap and the start of the next at once.
func (p *pagedRing) clear(off int64) {
	i := off % p.size / p.pageBytes
	if p.used[i] > 0 {
		p.used[i]--
		if p.used[i] == 0 {
			p.free(i)
		}
	}
}

// The sender writes whole stretches it reads from the body and frees by
// acknowledgement; it never starts the next lap in a page before the
// receiver holds all of that page's current lap (see bulkSend.space), so
// a page is freed once the acknowledged offset passes its end.

// fill returns the writable bytes from offset off, at most n and cut at
// the end of off's page, which is taken if not held.
func (p *pagedRing) fill(off, n int64) []byte {
	pg, at := p.page(off, true)
	return pg[at:min(int64(len(pg)), at+n)]
}

// pageStart is the offset where off's page starts in off's lap.
func (p *pagedRing) pageStart(off int64) int64 { return off - off%p.size%p.pageBytes }

// release frees the pages that end at or before offset to, among those
// from offset from on: the acknowledged offset moved from from to to.
func (p *pagedRing) release(from, to int64) {
	from = max(from, to-p.size)
	for x := p.pageStart(from); x < to; {
		i := x % p.size / p.pageBytes
		end := x + p.pageLen(i)
		if end > to {
			return
		}
		p.free(i)
		x = end
	}
}

func (p *pagedRing) free(i int64) {
	p.used[i] = 0
	if b := p.pages[i]; b != nil {
		p.pages[i] = nil
		if p.count != nil {
			p.count.Add(-int64(len(b)))
		}
		if cap(b) == pageCap {
			putPage(b[:pageCap])
		}
	}
}

// close gives back every page.
func (p *pagedRing) close() {
	for i := range p.pages {
		p.free(int64(i))
	}
}
