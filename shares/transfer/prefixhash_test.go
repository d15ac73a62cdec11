package transfer

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

// The hasher reads back what is on disk as far as it reaches without a
// gap, whatever order the pieces come in, and its sum is the file's; a
// file cut short gives a sum that cannot match.
func TestPrefixHasher(t *testing.T) {
	const size = 5*prefixHashBuffer + 12345
	data := make([]byte, size)
	_, _ = rand.Read(data)
	want := sha256.Sum256(data)
	for _, tt := range []struct {
		name  string
		order []int // pieces of prefixHashBuffer written, in this order
		cut   int64 // truncate the file to this size before the sum (0: no)
	}{
		{"in order", []int{0, 1, 2, 3, 4, 5}, 0},
		{"out of order", []int{3, 1, 5, 0, 4, 2}, 0},
		{"cut short", []int{0, 1, 2, 3, 4, 5}, 3 * prefixHashBuffer},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := os.Create(filepath.Join(t.TempDir(), "part"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			h := newPrefixHasher(f, size)
			defer h.halt()
			done := make([]bool, len(tt.order))
			prefix := 0
			for _, i := range tt.order {
				end := min(int64(i+1)*prefixHashBuffer, size)
				if _, err := f.WriteAt(data[int64(i)*prefixHashBuffer:end], int64(i)*prefixHashBuffer); err != nil {
					t.Fatal(err)
				}
				done[i] = true
				for prefix < len(done) && done[prefix] {
					prefix++
				}
				if tt.cut == 0 { // a cut file is read only by sum, after the cut
					h.advance(int64(prefix) * prefixHashBuffer)
				}
			}
			if tt.cut > 0 {
				if err := f.Truncate(tt.cut); err != nil {
					t.Fatal(err)
				}
			}
			got, err := h.sum()
			if err != nil {
				t.Fatal(err)
			}
			if match := got == hex.EncodeToString(want[:]); match != (tt.cut == 0) {
				t.Errorf("sum %s… matches the file's: %v, want %v", got[:12], match, tt.cut == 0)
			}
		})
	}
}
