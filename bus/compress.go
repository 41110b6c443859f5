package bus

import (
	"fmt"
	"sync"

	"github.com/klauspost/compress/s2"
	"github.com/nats-io/nats.go"
)

// encodingS2 marks a batch body compressed with s2's block format
// (s2.Encode), in the Pgc-Encoding header.
const encodingS2 = "s2"

const (
	// compressMinBytes is the smallest body worth compressing. Below it
	// (a few rows of a server-wide probe) s2 saves a few hundred bytes
	// a message at most; a table or index listing of 64 KiB and more
	// shrinks about 4x on real output. Measured in compress_test.go
	// (TestCompressionRatio).
	compressMinBytes = 1024
	// maxDecodedBytes refuses a body that claims to expand past any part
	// PublishBatch writes (at most the 64 MiB message limit), so a
	// corrupt or hostile length cannot make the sink allocate gigabytes.
	maxDecodedBytes = 256 << 20
	// pooledScratchBytes bounds the scratch buffers kept for reuse: a
	// typical batch is well under it, and keeping an 8 MiB buffer per P
	// for the odd split part would cost more memory than it saves.
	pooledScratchBytes = 2 << 20
)

// scratch holds s2's output before it is copied to a body of its exact
// size. The copy is small next to the compression, and the message then
// holds only compressed bytes however long JetStream takes to ack it.
var scratch = sync.Pool{New: func() any { return new([]byte) }}

// compressBody returns data compressed with s2, or nil when data is too
// small to be worth it or does not get smaller.
func compressBody(data []byte) []byte {
	if len(data) < compressMinBytes {
		return nil
	}
	bp := scratch.Get().(*[]byte)
	out := s2.Encode(*bp, data)
	var body []byte
	if len(out) < len(data) {
		body = make([]byte, len(out))
		copy(body, out)
	}
	if cap(out) <= pooledScratchBytes {
		*bp = out[:0]
		scratch.Put(bp)
	}
	return body
}

// decodeBody returns the COPY text of a body with the given Pgc-Encoding.
func decodeBody(data []byte, encoding string, alloc func(n int) []byte) ([]byte, error) {
	switch encoding {
	case "":
		return data, nil
	case encodingS2:
	default:
		return nil, fmt.Errorf("decode batch: header %s: unknown encoding %q", hdrEncoding, encoding)
	}
	n, err := decodedLen(data)
	if err != nil {
		return nil, err
	}
	var dst []byte
	if alloc != nil {
		dst = alloc(n)[:n]
	} else {
		dst = make([]byte, n)
	}
	raw, err := s2.Decode(dst, data)
	if err != nil {
		return nil, fmt.Errorf("decode batch: s2 body: %w", err)
	}
	return raw, nil
}

// BodyLen is the length of a batch message's COPY text once decoded,
// read from the s2 header without decoding; a malformed body counts as
// its wire length (DecodeBatch rejects it later). The sink sizes its
// flushes by it, so that a flush holds as much text with compression as
// without.
func BodyLen(data []byte, h nats.Header) int {
	if h.Get(hdrEncoding) != encodingS2 {
		return len(data)
	}
	n, err := decodedLen(data)
	if err != nil {
		return len(data)
	}
	return n
}

// decodedLen reads the length an s2 body decodes to, refusing one past
// maxDecodedBytes.
func decodedLen(data []byte) (int, error) {
	n, err := s2.DecodedLen(data)
	if err != nil {
		return 0, fmt.Errorf("decode batch: s2 body: %w", err)
	}
	if n > maxDecodedBytes {
		return 0, fmt.Errorf("decode batch: s2 body claims %d bytes, more than the %d a part can hold", n, maxDecodedBytes)
	}
	return n, nil
}
