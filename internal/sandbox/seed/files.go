package seed

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"strings"
	"sync"
)

// makePDF returns a small, valid one-page PDF with a title and lines of text,
// so text extraction has something real to work on.
func makePDF(title string, lines []string) []byte {
	esc := strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`)
	var content strings.Builder
	content.WriteString("BT /F1 18 Tf 72 720 Td (" + esc.Replace(title) + ") Tj ET\n")
	for i, l := range lines {
		fmt.Fprintf(&content, "BT /F1 12 Tf 72 %d Td (%s) Tj ET\n", 690-i*18, esc.Replace(l))
	}
	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", content.Len(), content.String()),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xref)
	return b.Bytes()
}

// makePNG returns one of a few gradient pictures of the given size. Pictures
// are cached per process: encoding them is the costliest part of seeding.
func makePNG(rng *rand.Rand, w, h int) []byte {
	key := pngKey{w, h, rng.IntN(8)}
	pngCache.Lock()
	defer pngCache.Unlock()
	if b, ok := pngCache.m[key]; ok {
		return b
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r0, g0, b0 := uint8(key.variant*97), uint8(key.variant*53+40), uint8(255-key.variant*31)
	for y := range h {
		row := img.Pix[y*img.Stride:]
		for x := range w {
			row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = r0+uint8(x*2), g0+uint8(y*3), b0+uint8((x+y)/2), 255
		}
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	_ = enc.Encode(&buf, img)
	pngCache.m[key] = buf.Bytes()
	return buf.Bytes()
}

type pngKey struct{ w, h, variant int }

var pngCache = struct {
	sync.Mutex
	m map[pngKey][]byte
}{m: map[pngKey][]byte{}}

// pseudoBytes returns n deterministic bytes: the body of a large generated file.
func pseudoBytes(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	out := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := rng.Uint64()
		for j := range 8 {
			out[i+j] = byte(v >> (8 * j))
		}
	}
	return out
}
