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

	mu sync.Mutex
	m  map[hashKey]string
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
