package transfer

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"
	"time"
)

// pacedSource serves its file with a first byte that takes firstByte, then
// as fast as the writer takes it. A range holds back its last hold bytes
// until the download asks for another range (or a second passes), and
// records how much of each range was still to come when the next began.
type pacedSource struct {
	data      []byte
	firstByte time.Duration
	hold      int64

	mu      sync.Mutex
	active  int     // ranges being served
	most    int     // the most served at once
	leftAt  []int64 // per range after the first: bytes the range before still had to send when it began
	current int64   // bytes the range being served has not yet handed to the writer
	asked   chan struct{}
}

func (s *pacedSource) Name() string { return "paced" }

func (s *pacedSource) ReadRange(ctx context.Context, off, n int64, w io.Writer) (int64, error) {
	s.mu.Lock()
	if s.active > 0 {
		s.leftAt = append(s.leftAt, s.current)
	}
	s.active++
	s.most = max(s.most, s.active)
	s.current = n
	asked := make(chan struct{})
	prev := s.asked
	s.asked = asked
	s.mu.Unlock()
	if prev != nil {
		close(prev) // the range before may finish now
	}
	defer func() {
		s.mu.Lock()
		s.active--
		s.mu.Unlock()
	}()

	select {
	case <-time.After(s.firstByte):
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	b := s.data[off : off+n]
	var done int64
	for len(b) > 0 {
		if int64(len(b)) == min(s.hold, n) {
			// Only the tail is left: the next range is asked for now or never.
			select {
			case <-asked:
			case <-time.After(time.Second):
			case <-ctx.Done():
				return done, ctx.Err()
			}
		}
		step := min(int64(len(b)), 64<<10)
		if rest := int64(len(b)) - s.hold; rest > 0 {
			step = min(step, rest)
		}
		// What is left once this step is handed over, noted before the
		// write: the download may ask for the next range from inside it,
		// and that range's start must not read the count from before it
		// (under load it did: a tail 64 KiB longer than it was).
		s.mu.Lock()
		if s.asked == asked {
			s.current = int64(len(b)) - step
		}
		s.mu.Unlock()
		m, err := w.Write(b[:step])
		done += int64(m)
		if err != nil {
			return done, err
		}
		b = b[step:]
	}
	return done, nil
}

// TestBackgroundDownloadOverlapsOnlyTails: a background download asks a
// source for the next chunk once the current one's rest comes within a
// first byte's time, never earlier (two whole chunks at once would make
// it yield to itself), and not only after the chunk's end (each end would
// idle the link for the next request's round trip and the owner's start).
// The source holds back each chunk's last 192 KiB until the next is asked
// for: with the next asked only at the end, each of the four chunks waits
// a second; with tails overlapping, only the last does.
func TestBackgroundDownloadOverlapsOnlyTails(t *testing.T) {
	data, remote := randomFile(t, 4*ChunkSize)
	src := &pacedSource{data: data, firstByte: 30 * time.Millisecond, hold: 192 << 10}
	start := time.Now()
	res, err := Download(context.Background(), Request{Remote: remote, Sources: []Source{src}, Dir: t.TempDir(), Name: "f.bin", Background: true})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	got, _ := os.ReadFile(res.Path)
	if !bytes.Equal(got, data) {
		t.Fatal("content differs")
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	t.Logf("took %v; ranges at once at most %d; the range before had %v bytes left when each next began", took.Round(time.Millisecond), src.most, src.leftAt)
	if src.most > 2 {
		t.Errorf("%d ranges at once from one source, want at most 2", src.most)
	}
	if len(src.leftAt) != 3 {
		t.Fatalf("%d ranges began while another was served, want 3 (each chunk's tail overlapping the next)", len(src.leftAt))
	}
	for i, left := range src.leftAt {
		if left > maxBackgroundTail {
			t.Errorf("range %d was asked for with %d bytes of the one before still to come: more than a tail (%d)", i+2, left, maxBackgroundTail)
		}
	}
	if took > 2*time.Second {
		t.Errorf("took %v: chunks waited for their end before the next was asked for", took)
	}
}

// TestDownloadAsksTwoChunksAtOnce: a normal download keeps two chunks
// going per source from the start.
func TestDownloadAsksTwoChunksAtOnce(t *testing.T) {
	data, remote := randomFile(t, 4*ChunkSize)
	src := &pacedSource{data: data, firstByte: 30 * time.Millisecond}
	if _, err := Download(context.Background(), Request{Remote: remote, Sources: []Source{src}, Dir: t.TempDir(), Name: "f.bin"}); err != nil {
		t.Fatal(err)
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	if src.most != fetchesPerSource {
		t.Errorf("%d ranges at once at most, want %d", src.most, fetchesPerSource)
	}
	if len(src.leftAt) == 0 || src.leftAt[0] != ChunkSize {
		t.Errorf("the second range began with %v bytes of the first left, want the whole chunk (%d)", fmt.Sprint(src.leftAt), ChunkSize)
	}
}
