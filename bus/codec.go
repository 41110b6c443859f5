package bus

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Batch header names. Every batch field except Data travels in a header, so
// the body is the COPY text unchanged and the sink never decodes a row.
const (
	hdrVersion     = "Pgc-V"
	hdrID          = "Pgc-Id"
	hdrKind        = "Pgc-Kind"
	hdrConnection  = "Pgc-Connection"
	hdrProbe       = "Pgc-Probe"
	hdrDatabase    = "Pgc-Database"
	hdrCollectedAt = "Pgc-Collected-At"
	hdrPart        = "Pgc-Part"
	hdrParts       = "Pgc-Parts"
	hdrRows        = "Pgc-Rows"
	hdrColumns     = "Pgc-Columns"
	hdrHash        = "Pgc-Hash"
	hdrUnavailable = "Pgc-Unavailable"
	hdrReason      = "Pgc-Reason"
	hdrConnError   = "Pgc-Connection-Error"
	hdrEncoding    = "Pgc-Encoding"
)

// A message carries the lowest version that can read it, so a build older
// than compression still reads plain batches during a rolling upgrade and
// refuses a compressed one loudly ("newer than this build") instead of
// storing compressed bytes as COPY text.
const (
	versionText   = "1" // strconv.Itoa(versionPlain): a plain body
	versionS2Text = "2" // strconv.Itoa(Version): a compressed body
)

// encodingHeaderSize is what the Pgc-Encoding header adds to a message;
// the version header is one digit either way.
const encodingHeaderSize = len(hdrEncoding) + len(": ") + len(encodingS2) + len("\r\n")

// EncodeBatch returns the message for one batch part: subject
// pgc.batches.<probe>, the Pgc-* headers, the Nats-Msg-Id
// "<ID>#<Part>" and Data as the body: compressed when that pays (see
// compressBody), else shared, not copied. PublishBatch splits a large
// batch before encoding; EncodeBatch itself never splits.
func EncodeBatch(bt Batch) *nats.Msg {
	body, encoding, version := bt.Data, "", versionText
	if bt.Kind == KindRows {
		if c := compressBody(bt.Data); c != nil {
			body, encoding, version = c, encodingS2, versionS2Text
		}
	}
	// One backing array for all values keeps this to a handful of
	// allocations whatever the size of Data.
	vals := [17]string{
		version,
		headerEscape(bt.ID),
		string(bt.Kind),
		strconv.FormatInt(bt.ConnectionID, 10),
		bt.Probe,
		bt.CollectedAt.UTC().Format(time.RFC3339Nano),
		strconv.Itoa(bt.Part),
		strconv.Itoa(bt.Parts),
		strconv.Itoa(bt.Rows),
		strings.Join(bt.Columns, ","),
		headerEscape(bt.ID) + "#" + strconv.Itoa(bt.Part),
	}
	h := make(nats.Header, len(vals))
	keys := [...]string{hdrVersion, hdrID, hdrKind, hdrConnection, hdrProbe, hdrCollectedAt,
		hdrPart, hdrParts, hdrRows, hdrColumns, jetstream.MsgIDHeader}
	for i, k := range keys {
		h[k] = vals[i : i+1 : i+1]
	}
	n := len(keys)
	optional := func(k, v string) {
		if v != "" {
			vals[n] = v
			h[k] = vals[n : n+1 : n+1]
			n++
		}
	}
	optional(hdrDatabase, headerEscape(bt.Database))
	optional(hdrHash, headerEscape(bt.Hash))
	if bt.Unavailable {
		optional(hdrUnavailable, "true")
	}
	optional(hdrReason, headerEscape(bt.Reason))
	if bt.ConnectionError {
		optional(hdrConnError, "true")
	}
	optional(hdrEncoding, encoding)
	return &nats.Msg{Subject: BatchSubject(bt.Probe), Header: h, Data: body}
}

// DecodeBatch reads a batch part from a message's body and headers. Data
// is the COPY text: it aliases data for a plain body and is a new slice
// for a compressed one. It rejects a message from a newer, unknown
// version, an unknown encoding, a corrupt body and malformed or missing
// headers; the sink terminates such messages.
func DecodeBatch(data []byte, h nats.Header) (Batch, error) {
	return DecodeBatchInto(data, h, nil)
}

// DecodeBatchInto is DecodeBatch with the slice a compressed body is
// decoded into taken from alloc, which must return one of length 0 and
// capacity at least n; nil allocates. It lets the sink recycle those
// slices, the largest of its allocations.
func DecodeBatchInto(data []byte, h nats.Header, alloc func(n int) []byte) (Batch, error) {
	if err := checkVersion(h.Get(hdrVersion)); err != nil {
		return Batch{}, err
	}
	data, err := decodeBody(data, h.Get(hdrEncoding), alloc)
	if err != nil {
		return Batch{}, err
	}
	d := headerDecoder{h: h}
	bt := Batch{
		ID:              d.escaped(hdrID, true),
		Kind:            Kind(d.text(hdrKind, true)),
		ConnectionID:    d.int64(hdrConnection, true),
		Probe:           d.text(hdrProbe, true),
		Database:        d.escaped(hdrDatabase, false),
		CollectedAt:     d.time(hdrCollectedAt),
		Part:            int(d.int64(hdrPart, true)),
		Parts:           int(d.int64(hdrParts, true)),
		Rows:            int(d.int64(hdrRows, false)),
		Hash:            d.escaped(hdrHash, false),
		Unavailable:     d.bool(hdrUnavailable),
		Reason:          d.escaped(hdrReason, false),
		ConnectionError: d.bool(hdrConnError),
		Data:            data,
	}
	if cols := d.text(hdrColumns, false); cols != "" {
		bt.Columns = strings.Split(cols, ",")
	}
	if d.err != nil {
		return Batch{}, d.err
	}
	switch {
	case bt.Kind != KindRows && bt.Kind != KindStatus:
		return Batch{}, fmt.Errorf("decode batch: header %s: unknown kind %q", hdrKind, bt.Kind)
	case bt.Parts < 1 || bt.Part < 0 || bt.Part >= bt.Parts:
		return Batch{}, fmt.Errorf("decode batch: part %d of %d is out of range", bt.Part, bt.Parts)
	case bt.Rows < 0:
		return Batch{}, fmt.Errorf("decode batch: header %s: negative row count", hdrRows)
	}
	return bt, nil
}

// checkVersion accepts the versions this build can read.
func checkVersion(v string) error {
	if v == "" {
		return fmt.Errorf("decode: no message version (header %s or field v)", hdrVersion)
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return fmt.Errorf("decode: malformed message version %q", v)
	}
	if n > Version {
		return fmt.Errorf("decode: message version %d is newer than this build understands (%d)", n, Version)
	}
	return nil
}

// headerDecoder reads typed headers, keeping the first error.
type headerDecoder struct {
	h   nats.Header
	err error
}

func (d *headerDecoder) fail(key, format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("decode batch: header %s: %s", key, fmt.Sprintf(format, args...))
	}
}

func (d *headerDecoder) text(key string, required bool) string {
	v := d.h.Get(key)
	if v == "" && required {
		d.fail(key, "missing")
	}
	return v
}

func (d *headerDecoder) escaped(key string, required bool) string {
	v := d.text(key, required)
	if strings.IndexByte(v, '%') < 0 {
		return v
	}
	u, err := url.PathUnescape(v)
	if err != nil {
		d.fail(key, "bad escape in %q", v)
	}
	return u
}

func (d *headerDecoder) int64(key string, required bool) int64 {
	v := d.text(key, required)
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		d.fail(key, "not an integer: %q", v)
	}
	return n
}

func (d *headerDecoder) time(key string) time.Time {
	v := d.text(key, true)
	if v == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		d.fail(key, "not an RFC 3339 time: %q", v)
	}
	return t
}

func (d *headerDecoder) bool(key string) bool {
	switch v := d.h.Get(key); v {
	case "", "false":
		return false
	case "true":
		return true
	default:
		d.fail(key, "not a boolean: %q", v)
		return false
	}
}

// headerEscape makes free text (database names, reasons, ids holding them)
// safe and exact in a NATS header, whose values are trimmed and have CR/LF
// replaced. Ordinary text passes unchanged; anything with control
// characters, non-ASCII bytes, '%' or edge spaces is percent-encoded.
func headerEscape(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '%' {
			return url.PathEscape(s)
		}
	}
	if s != "" && (s[0] == ' ' || s[len(s)-1] == ' ') {
		return url.PathEscape(s)
	}
	return s
}
