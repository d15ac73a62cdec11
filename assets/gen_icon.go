//go:build ignore

// gen_icon draws icon.png: two overlapping rounded squares (two desks) in
// blue, linked by a white line between two white nodes (the network).
// Run it with `go generate ./assets`.
package main

import (
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"os"
)

const (
	size = 256
	ss   = 4 // supersampling per axis, for anti-aliased edges
)

// shape returns how far p lies outside the shape (negative inside).
type shape func(x, y float64) float64

func roundedSquare(cx, cy, half, r float64) shape {
	return func(x, y float64) float64 {
		qx := math.Abs(x-cx) - (half - r)
		qy := math.Abs(y-cy) - (half - r)
		out := math.Hypot(math.Max(qx, 0), math.Max(qy, 0))
		return out + math.Min(math.Max(qx, qy), 0) - r
	}
}

func circle(cx, cy, r float64) shape {
	return func(x, y float64) float64 { return math.Hypot(x-cx, y-cy) - r }
}

func capsule(ax, ay, bx, by, r float64) shape {
	return func(x, y float64) float64 {
		px, py := x-ax, y-ay
		dx, dy := bx-ax, by-ay
		t := math.Max(0, math.Min(1, (px*dx+py*dy)/(dx*dx+dy*dy)))
		return math.Hypot(px-dx*t, py-dy*t) - r
	}
}

type layer struct {
	s shape
	c color.NRGBA
}

func main() {
	back := roundedSquare(98, 98, 82, 26)
	front := roundedSquare(158, 158, 82, 26)
	layers := []layer{
		{back, color.NRGBA{0x1f, 0x6f, 0xeb, 0xff}},
		{front, color.NRGBA{0x58, 0xa6, 0xff, 0xe6}},
		// The overlap, darker, so the two squares read as two.
		{func(x, y float64) float64 { return math.Max(back(x, y), front(x, y)) }, color.NRGBA{0x0b, 0x4d, 0xb3, 0xff}},
		{capsule(78, 78, 178, 178, 9), color.NRGBA{0xff, 0xff, 0xff, 0xff}},
		{circle(78, 78, 24), color.NRGBA{0xff, 0xff, 0xff, 0xff}},
		{circle(178, 178, 24), color.NRGBA{0xff, 0xff, 0xff, 0xff}},
	}
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			var r, g, b, a float64 // premultiplied, 0..1
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					px := float64(x) + (float64(sx)+0.5)/ss
					py := float64(y) + (float64(sy)+0.5)/ss
					var sr, sg, sb, sa float64
					for _, l := range layers {
						if l.s(px, py) > 0 {
							continue
						}
						la := float64(l.c.A) / 255
						sr = float64(l.c.R)/255*la + sr*(1-la)
						sg = float64(l.c.G)/255*la + sg*(1-la)
						sb = float64(l.c.B)/255*la + sb*(1-la)
						sa = la + sa*(1-la)
					}
					r, g, b, a = r+sr, g+sg, b+sb, a+sa
				}
			}
			n := float64(ss * ss)
			r, g, b, a = r/n, g/n, b/n, a/n
			if a == 0 {
				continue
			}
			img.SetNRGBA(x, y, color.NRGBA{
				R: uint8(math.Round(r / a * 255)),
				G: uint8(math.Round(g / a * 255)),
				B: uint8(math.Round(b / a * 255)),
				A: uint8(math.Round(a * 255)),
			})
		}
	}
	f, err := os.Create("icon.png")
	if err != nil {
		log.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}
