package bulk

import "testing"

// TestRingSize: a receiver that accepts at most limit bytes sets up a
// window of that size, not the full 8 MiB.
func TestRingSize(t *testing.T) {
	for _, tc := range []struct {
		limit int64
		chunk int
		want  int
	}{
		{-1, 1200, Window},
		{0, 1200, 1200},
		{1, 1200, 1200},
		{1200, 1200, 1200},
		{1201, 1200, 2400},
		{int64(Window) - 1, 1200, ((Window - 1 + 1199) / 1200) * 1200},
		{int64(Window), 1200, Window},
		{1 << 40, 1200, Window},
	} {
		if got := ringSize(tc.limit, tc.chunk); got != tc.want {
			t.Errorf("ringSize(%d, %d) = %d, want %d", tc.limit, tc.chunk, got, tc.want)
		}
	}
}
