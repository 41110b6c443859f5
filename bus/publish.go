package bus

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// publishAttempts bounds how often PublishBatch resends parts after
// transient failures (429, lost acks, reconnects) or after making room in
// a full buffer. Resending is safe: every part has its own message id.
const publishAttempts = 6

// PublishJob publishes j on pgc.jobs.<probe> with message id JobID(j) and
// waits for JetStream to acknowledge it. A duplicate within the stream's
// window is acknowledged without being stored again.
func (b *Bus) PublishJob(ctx context.Context, j Job) error {
	_, err := b.PublishJobSeq(ctx, j)
	return err
}

// PublishJobSeq is PublishJob that also returns the job's sequence in
// PGC_JOBS: the stored message's, when JetStream took j as a duplicate.
func (b *Bus) PublishJobSeq(ctx context.Context, j Job) (uint64, error) {
	if err := checkToken("probe", j.Probe); err != nil {
		return 0, fmt.Errorf("publish job: %w", err)
	}
	ack, err := b.js.PublishMsg(ctx, EncodeJob(j))
	if err != nil {
		return 0, fmt.Errorf("publish job %s: %w", JobID(j), err)
	}
	return ack.Sequence, nil
}

// JobsDelivered returns the highest PGC_JOBS sequence the fetcher
// consumer has handed out: jobs above it still wait in the queue. It costs
// one JetStream API request.
func (b *Bus) JobsDelivered(ctx context.Context) (uint64, error) {
	c, err := b.js.Consumer(ctx, StreamJobs, ConsumerFetcher)
	if err != nil {
		return 0, fmt.Errorf("fetcher consumer: %w", err)
	}
	return c.CachedInfo().Delivered.Stream, nil
}

// JobsLast returns the sequence of the last job PGC_JOBS accepted, 0 when
// it never held one: a scheduler that starts reads it to know which
// waiting jobs an earlier run may have left. One JetStream API request.
func (b *Bus) JobsLast(ctx context.Context) (uint64, error) {
	s, err := b.js.Stream(ctx, StreamJobs)
	if err != nil {
		return 0, fmt.Errorf("jobs stream: %w", err)
	}
	return s.CachedInfo().State.LastSeq, nil
}

// PublishTick publishes t on pgc.timers.<name> with message id
// Name + "." + Period and waits for the acknowledgement.
func (b *Bus) PublishTick(ctx context.Context, t Tick) error {
	if err := checkToken("timer", t.Name); err != nil {
		return fmt.Errorf("publish tick: %w", err)
	}
	if t.Period == "" {
		return fmt.Errorf("publish tick %s: empty period", t.Name)
	}
	if _, err := b.js.PublishMsg(ctx, EncodeTick(t)); err != nil {
		return fmt.Errorf("publish tick %s.%s: %w", t.Name, t.Period, err)
	}
	return nil
}

// PublishBatch publishes bt on pgc.batches.<probe> and returns nil only
// once JetStream has acknowledged every part. Data larger than a message
// is split at line boundaries into parts sharing ID, numbered by Part of
// Parts, with message ids ID#Part (bt.Part and bt.Parts are ignored;
// each part's Rows counts its own rows). When the buffer is full of
// unacknowledged batches it returns an error wrapping ErrBufferFull; the
// caller keeps the batch and pauses collection. Publishing the same batch
// again later is safe.
func (b *Bus) PublishBatch(ctx context.Context, bt Batch) error {
	if err := checkBatch(bt); err != nil {
		return fmt.Errorf("publish batch %s: %w", bt.ID, err)
	}
	b.trimExpired(ctx)
	msgs, err := b.splitBatch(bt)
	if err != nil {
		return fmt.Errorf("publish batch %s: %w", bt.ID, err)
	}
	wait := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		failed, r := classify(msgs, b.publishParts(ctx, msgs))
		switch {
		case len(failed) == 0:
			return nil
		case ctx.Err() != nil:
			return fmt.Errorf("publish batch %s: %w", bt.ID, ctx.Err())
		case r.fatal != nil:
			return fmt.Errorf("publish batch %s: %w", bt.ID, r.fatal)
		case r.full != nil && !b.makeRoom(ctx):
			return fmt.Errorf("publish batch %s: %w (%v)", bt.ID, ErrBufferFull, r.full)
		case attempt == publishAttempts && r.full != nil:
			return fmt.Errorf("publish batch %s: %w (%v)", bt.ID, ErrBufferFull, r.full)
		case attempt == publishAttempts:
			return fmt.Errorf("publish batch %s: %d of %d parts not acknowledged after %d attempts: %w",
				bt.ID, len(failed), len(msgs), attempt, r.transient)
		}
		if r.full == nil { // after making room, resend at once
			select {
			case <-ctx.Done():
				return fmt.Errorf("publish batch %s: %w", bt.ID, ctx.Err())
			case <-time.After(wait):
			}
			wait *= 2
		}
		msgs = failed
	}
}

// checkBatch rejects what would corrupt the subject or the headers.
func checkBatch(bt Batch) error {
	if err := checkToken("probe", bt.Probe); err != nil {
		return err
	}
	if bt.ID == "" {
		return fmt.Errorf("empty batch id")
	}
	if bt.Kind != KindRows && bt.Kind != KindStatus {
		return fmt.Errorf("unknown kind %q", bt.Kind)
	}
	for _, c := range bt.Columns {
		if c == "" || strings.ContainsAny(c, ",\r\n") {
			return fmt.Errorf("column name %q cannot travel in the %s header", c, hdrColumns)
		}
	}
	return nil
}

// splitBatch encodes bt as one message, or as several when Data does not
// fit, cutting only after a newline: COPY text escapes newlines inside
// values, so every '\n' ends a row. Only the tail of each part is scanned,
// never each row. Parts are cut by their raw size and then compressed
// (EncodeBatch keeps a body that does not shrink plain), so every part
// fits even uncompressed and no part decodes to more than a message
// holds, which bounds what a sink holds per message.
func (b *Bus) splitBatch(bt Batch) ([]*nats.Msg, error) {
	// Room for the headers of the largest part number and row count, and
	// for the encoding header, which a body-less probe does not get.
	probe := bt
	probe.Data, probe.Part, probe.Parts, probe.Rows = nil, 999999, 999999, 1<<40
	limit := b.msgLimit - wireHeaderSize(EncodeBatch(probe).Header) - encodingHeaderSize
	if limit < 1024 {
		return nil, fmt.Errorf("headers leave no room for data in a %d-byte message", b.msgLimit)
	}
	if len(bt.Data) <= limit {
		bt.Part, bt.Parts = 0, 1
		return []*nats.Msg{EncodeBatch(bt)}, nil
	}
	var chunks [][]byte
	for data := bt.Data; len(data) > 0; {
		n := len(data)
		if n > limit {
			i := bytes.LastIndexByte(data[:limit], '\n')
			if i < 0 {
				return nil, fmt.Errorf("a row longer than %d bytes cannot be split to fit a message", limit)
			}
			n = i + 1
		}
		chunks = append(chunks, data[:n])
		data = data[n:]
	}
	msgs := make([]*nats.Msg, len(chunks))
	for i, c := range chunks {
		part := bt
		part.Data, part.Part, part.Parts = c, i, len(chunks)
		// A split part counts its own rows, so the parts sum to the total.
		part.Rows = bytes.Count(c, []byte{'\n'})
		if i == len(chunks)-1 && len(c) > 0 && c[len(c)-1] != '\n' {
			part.Rows++
		}
		msgs[i] = EncodeBatch(part)
	}
	return msgs, nil
}

// wireHeaderSize is the size of the header block nats.go writes for h.
func wireHeaderSize(h nats.Header) int {
	n := len("NATS/1.0\r\n") + len("\r\n")
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(": ") + len(v) + len("\r\n")
		}
	}
	return n
}

// msgSize is what a message counts against MaxPayload and MaxMsgSize.
func msgSize(m *nats.Msg) int { return wireHeaderSize(m.Header) + len(m.Data) }

// partLabel names a part in errors, counting from 1: "part 3 of 5".
func partLabel(m *nats.Msg) string {
	part, _ := strconv.Atoi(m.Header.Get(hdrPart))
	return "part " + strconv.Itoa(part+1) + " of " + m.Header.Get(hdrParts)
}
