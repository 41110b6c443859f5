package bus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Stream and consumer names are part of the operator interface (docs/design.md).
const (
	StreamJobs    = "PGC_JOBS"
	StreamBatches = "PGC_BATCHES"
	StreamTimers  = "PGC_TIMERS"

	ConsumerFetcher   = "fetcher"
	ConsumerSink      = "sink"
	ConsumerRetention = "retention"
)

// jobsMaxBytes bounds PGC_JOBS should the fetchers stop for an hour; the
// oldest jobs, stale by then anyway, make room.
const jobsMaxBytes = 256 * int64(MiB)

// jobsDuplicates is PGC_JOBS' deduplication window. Schedulers running
// side by side publish a slot within a tick or two of each other, and a
// publish resent after a lost acknowledgement comes within seconds. What
// a scheduler that starts must not publish again, slots in progress that
// an earlier run published minutes ago, it learns from PGC_SCHEDULE
// (schedule.go) instead. JetStream keeps every id of the window in memory:
// at 1,000 servers 10 minutes held ~88,000 job ids, ~15 MB.
const jobsDuplicates = 2 * time.Minute

// batchesDuplicates is PGC_BATCHES' deduplication window. It only has to
// catch a part published again within seconds (an acknowledgement lost on
// the way back) or by a redelivered job (after the fetcher consumer's 60 s
// ack wait); the sink's ingest ledger is what keeps a slot from being
// stored twice at any distance. JetStream keeps every message id of the
// window in memory, ~90 bytes each: at 1,000 servers 10 minutes held about
// 10 MB of batch ids, 2 minutes about 2 MB.
const batchesDuplicates = 2 * time.Minute

// streamConfigs declares the four streams. PGC_BATCHES has no MaxAge on
// purpose: the stream would expire unacknowledged batches after the replay
// window too, which the design forbids. The window applies to acknowledged
// batches only and is enforced by the trimmer (trim.go), which is also what
// frees space in a full buffer by dropping the oldest acknowledged batches.
func (b *Bus) streamConfigs() []jetstream.StreamConfig {
	return []jetstream.StreamConfig{{
		Name:        StreamJobs,
		Description: "pgcollector: probe runs to do now (one per connection, probe and slot)",
		Subjects:    []string{jobsSubjectPrefix + ">"},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		MaxAge:      time.Hour,
		MaxBytes:    jobsMaxBytes,
		Discard:     jetstream.DiscardOld,
		Duplicates:  jobsDuplicates,
		Replicas:    b.cfg.StreamReplicas,
	}, {
		Name:        StreamBatches,
		Description: "pgcollector: durable buffer of probe results between fetchers and sinks",
		Subjects:    []string{batchesSubjectPrefix + ">"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		MaxBytes:    int64(b.cfg.BufferMaxBytes),
		Discard:     jetstream.DiscardNew,
		MaxMsgSize:  int32(b.msgLimit),
		Duplicates:  batchesDuplicates,
		Replicas:    b.cfg.StreamReplicas,
	}, {
		Name:        StreamTimers,
		Description: "pgcollector: timer ticks such as the daily retention run",
		Subjects:    []string{timersSubjectPrefix + ">"},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Duplicates:  25 * time.Hour,
		Replicas:    b.cfg.StreamReplicas,
	}, b.scheduleStreamConfig()}
}

// consumerConfigs declares the durable consumers, each shared by every
// process of its role so that N processes split the work.
func consumerConfigs() map[string]jetstream.ConsumerConfig {
	return map[string]jetstream.ConsumerConfig{
		StreamJobs: {
			Durable:       ConsumerFetcher,
			Description:   "fetchers: run probes",
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       60 * time.Second,
			MaxAckPending: 512,
			MaxDeliver:    5,
		},
		StreamBatches: {
			Durable:       ConsumerSink,
			Description:   "sinks: write batches to the datastore",
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       60 * time.Second,
			MaxAckPending: 4096,
			MaxDeliver:    -1, // a datastore outage must never make a batch give up
		},
		StreamTimers: {
			Durable:     ConsumerRetention,
			Description: "retention: drop expired partitions",
			AckPolicy:   jetstream.AckExplicitPolicy,
			AckWait:     10 * time.Minute,
		},
	}
}

// declare creates or updates the streams and consumers. Several processes
// may race here: creating an identical stream or consumer succeeds on the
// server, and a lost create-versus-update race is retried as an update.
// Errors that say the cluster is not ready yet are retried until ctx ends.
func (b *Bus) declare(ctx context.Context) error {
	consumers := consumerConfigs()
	for _, sc := range b.streamConfigs() {
		err := b.retry(ctx, "declare stream "+sc.Name, func(ctx context.Context) error {
			_, err := b.js.CreateOrUpdateStream(ctx, sc)
			return err
		})
		if err != nil {
			return err
		}
		cc, ok := consumers[sc.Name]
		if !ok {
			continue // PGC_SCHEDULE is read by subject, not consumed
		}
		err = b.retry(ctx, "declare consumer "+sc.Name+" > "+cc.Durable, func(ctx context.Context) error {
			_, err := b.js.CreateOrUpdateConsumer(ctx, sc.Name, cc)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// declareAttemptTimeout bounds one declaration request. A replicated
// stream created while a node is down answers once its new group has
// elected a leader, which was measured at up to 16 s, and sometimes the
// answer never comes although the stream exists: asking again (an update
// of an identical stream succeeds at once) beats waiting out the caller's
// whole deadline on one lost answer.
const declareAttemptTimeout = 10 * time.Second

// retry runs op, each attempt under declareAttemptTimeout, until it
// succeeds, fails for good, or ctx ends.
func (b *Bus) retry(ctx context.Context, what string, op func(context.Context) error) error {
	wait := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, declareAttemptTimeout)
		err := op(actx)
		cancel()
		if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			// Only the attempt timed out: retry it like a JetStream timeout.
			err = fmt.Errorf("no answer within %s: %w", declareAttemptTimeout, nats.ErrTimeout)
		}
		if err == nil {
			return nil
		}
		if !declareRetryable(err) {
			return fmt.Errorf("%s: %w", what, err)
		}
		// Once soon, then about every two minutes: a cluster may take long
		// to come back, and the operator should know what we wait for.
		if attempt%25 == 3 {
			b.log.Warn("JetStream not ready, retrying", "op", what, "err", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (last error: %v)", what, ctx.Err(), err)
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// declareRetryable says whether a declaration error may go away by itself:
// a race with another process, or a cluster still electing its leaders.
func declareRetryable(err error) bool {
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) ||
		errors.Is(err, jetstream.ErrConsumerExists) ||
		errors.Is(err, jetstream.ErrConsumerDoesNotExist) ||
		errors.Is(err, jetstream.ErrJetStreamNotEnabled) ||
		errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	// A replicated stream cannot be placed while one of its peers is
	// offline: the first start of a deployment with a node down waits for
	// the node. A lack of storage or of peers altogether is the
	// configuration's fault and fails at once, naming it.
	return apiErr.Code == 503 ||
		apiErr.ErrorCode == errCodeNoPeers && strings.Contains(apiErr.Description, "peer offline")
}

// errCodeNoPeers is JetStream's "no suitable peers for placement".
const errCodeNoPeers = 10005

// Jobs returns the fetchers' durable consumer on PGC_JOBS.
func (b *Bus) Jobs(ctx context.Context) (jetstream.Consumer, error) {
	return b.consumer(ctx, StreamJobs, ConsumerFetcher)
}

// Batches returns the sinks' durable consumer on PGC_BATCHES.
func (b *Bus) Batches(ctx context.Context) (jetstream.Consumer, error) {
	return b.consumer(ctx, StreamBatches, ConsumerSink)
}

// Timers returns the retention stage's durable consumer on PGC_TIMERS.
func (b *Bus) Timers(ctx context.Context) (jetstream.Consumer, error) {
	return b.consumer(ctx, StreamTimers, ConsumerRetention)
}

func (b *Bus) consumer(ctx context.Context, stream, durable string) (jetstream.Consumer, error) {
	c, err := b.js.Consumer(ctx, stream, durable)
	if err != nil {
		return nil, fmt.Errorf("consumer %s > %s: %w", stream, durable, err)
	}
	return c, nil
}
