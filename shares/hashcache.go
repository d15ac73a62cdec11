package shares

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
)

// hashKey identifies one version of one file: a change of content shows in
// its size or mtime, a replacement in its inode.
type hashKey struct {
	path     string // share name + "/" + share-relative path
	size     int64
	mtime    int64
	dev, ino uint64
}

func keyOf(path string, fi fs.FileInfo) hashKey {
	dev, ino := fileID(fi)
	return hashKey{path: path, size: fi.Size(), mtime: fi.ModTime().UnixNano(), dev: dev, ino: ino}
}

// hashCache remembers SHA-256 sums of served files, so repeated stats (a
// resumed or multi-source download asks more than once) cost nothing.
type hashCache struct {
	max int

	mu     sync.Mutex
	m      map[hashKey]string
	chunks map[hashKey][]byte // chunk sums (chunkSums), few
}

func newHashCache(max int) *hashCache {
	return &hashCache{max: max, m: map[hashKey]string{}}
}

func (c *hashCache) get(k hashKey) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[k]
	return s, ok
}

func (c *hashCache) put(k hashKey, sum string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		// Forget an arbitrary tenth: cheap, and hot files come back at once.
		n := c.max / 10
		for k := range c.m {
			if n--; n < 0 {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[k] = sum
}

// sum returns the SHA-256 of the open file f, whose stat is fi, from the
// cache or by reading it. A file that changes while it is read is not
// cached.
func (c *hashCache) sum(cacheName string, f *os.File, fi fs.FileInfo) (string, error) {
	k := keyOf(cacheName, fi)
	if s, ok := c.get(k); ok {
		return s, nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, fi.Size())); err != nil {
		return "", fmt.Errorf("hash: %w", err)
	}
	s := hex.EncodeToString(h.Sum(nil))
	if after, err := f.Stat(); err == nil && keyOf(cacheName, after) == k {
		c.put(k, s)
	}
	return s, nil
}

// ChunkSumSize is the span of one chunk sum of fs.chunks: the unit in
// which a multi-source download checks what each source sent
// (transfer.ChunkSize).
const ChunkSumSize = 8 << 20

// maxChunkLists bounds the chunk-sum lists kept (up to 4 MiB each for a
// 1 TiB file); they are asked for once per multi-source download.
const maxChunkLists = 32

// chunkSums returns the SHA-256 of f and of each ChunkSumSize chunk of it
// (32 bytes each, concatenated), reading the file once, from the cache
// when it holds them.
func (c *hashCache) chunkSums(cacheName string, f *os.File, fi fs.FileInfo) (string, []byte, error) {
	k := keyOf(cacheName, fi)
	c.mu.Lock()
	if c.chunks == nil {
		c.chunks = map[hashKey][]byte{}
	}
	sums, ok := c.chunks[k]
	whole, okWhole := c.m[k]
	c.mu.Unlock()
	if ok && okWhole {
		return whole, sums, nil
	}
	h := sha256.New()
	n := (fi.Size() + ChunkSumSize - 1) / ChunkSumSize
	sums = make([]byte, 0, n*sha256.Size)
	ch := sha256.New()
	r := io.NewSectionReader(f, 0, fi.Size())
	for off := int64(0); off < fi.Size(); off += ChunkSumSize {
		ch.Reset()
		if _, err := io.Copy(io.MultiWriter(h, ch), io.LimitReader(r, ChunkSumSize)); err != nil {
			return "", nil, fmt.Errorf("hash: %w", err)
		}
		sums = ch.Sum(sums)
	}
	whole = hex.EncodeToString(h.Sum(nil))
	if after, err := f.Stat(); err == nil && keyOf(cacheName, after) == k {
		c.put(k, whole)
		c.mu.Lock()
		if len(c.chunks) >= maxChunkLists {
			for old := range c.chunks {
				delete(c.chunks, old)
				break
			}
		}
		c.chunks[k] = sums
		c.mu.Unlock()
	}
	return whole, sums, nil
}
