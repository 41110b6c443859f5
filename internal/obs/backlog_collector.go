package obs

import (
	"context"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// backlogCollector reads the buffer backlog from JetStream at scrape time,
// so the figures are as fresh as the scrape and no goroutine polls when
// nobody looks. Every process that shares the bus reports the same
// figures: aggregate them with max, not sum.
type backlogCollector struct {
	js jetstream.JetStream

	up, pending, ackPending, redelivered, pendingBytes *prometheus.Desc
	streamMsgs, streamBytes, maxBytes                  *prometheus.Desc
}

// CollectBacklog registers the scrape-time buffer backlog of js.
func (m *Metrics) CollectBacklog(js jetstream.JetStream) {
	sc := []string{"stream", "consumer"}
	st := []string{"stream"}
	d := func(name, help string, labels []string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", name), help, labels, nil)
	}
	m.reg.MustRegister(&backlogCollector{
		js:           js,
		up:           d("bus_up", "1 when JetStream answered the backlog query of this scrape.", nil),
		pending:      d("buffer_pending_messages", "Messages a durable consumer has not acknowledged yet (not delivered plus awaiting ack).", sc),
		ackPending:   d("buffer_ack_pending_messages", "Messages delivered to a durable consumer and awaiting acknowledgement.", sc),
		redelivered:  d("buffer_redelivered_messages", "Unacknowledged messages that were delivered more than once.", sc),
		pendingBytes: d("buffer_pending_bytes", "Bytes of the unacknowledged messages (estimated for PGC_BATCHES, which also keeps acknowledged batches for replay).", sc),
		streamMsgs:   d("buffer_stream_messages", "Messages the stream holds, acknowledged or not.", st),
		streamBytes:  d("buffer_stream_bytes", "Bytes the stream holds, acknowledged or not.", st),
		maxBytes:     d("buffer_max_bytes", "The stream's byte limit (-1: none).", st),
	})
}

func (c *backlogCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.up, c.pending, c.ackPending, c.redelivered, c.pendingBytes,
		c.streamMsgs, c.streamBytes, c.maxBytes} {
		ch <- d
	}
}

func (c *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	backlog, err := ReadBacklog(context.Background(), c.js)
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, b2f(err == nil))
	g := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, b := range backlog {
		if b.Error != "" {
			// An unknown backlog is left out rather than reported as 0.
			continue
		}
		g(c.pending, float64(b.Unsettled()), b.Stream, b.Consumer)
		g(c.ackPending, float64(b.AckPending), b.Stream, b.Consumer)
		g(c.redelivered, float64(b.Redelivered), b.Stream, b.Consumer)
		g(c.pendingBytes, float64(b.PendingBytes), b.Stream, b.Consumer)
		g(c.streamMsgs, float64(b.StreamMessages), b.Stream)
		g(c.streamBytes, float64(b.StreamBytes), b.Stream)
		g(c.maxBytes, float64(b.MaxBytes), b.Stream)
	}
}
