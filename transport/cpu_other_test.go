//go:build !unix

package transport

import "time"

// processCPU is not measured here: the benchmarks then report no CPU
// figure (0).
func processCPU() time.Duration { return 0 }
