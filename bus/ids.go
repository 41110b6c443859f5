package bus

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Subject prefixes; the streams capture <prefix>.>.
const (
	jobsSubjectPrefix    = "pgc.jobs."
	batchesSubjectPrefix = "pgc.batches."
	timersSubjectPrefix  = "pgc.timers."
)

// JobSubject is the subject a job for probe is published on.
func JobSubject(probe string) string { return jobsSubjectPrefix + probe }

// BatchSubject is the subject a batch of probe is published on.
func BatchSubject(probe string) string { return batchesSubjectPrefix + probe }

// TickSubject is the subject a tick of timer name is published on.
func TickSubject(name string) string { return timersSubjectPrefix + name }

// JobID is the JetStream message id of a job: "<connection>.<probe>.<slot>",
// so every scheduler publishes the same id for the same slot.
func JobID(j Job) string {
	return strconv.FormatInt(j.ConnectionID, 10) + "." + j.Probe + "." + strconv.FormatInt(j.Slot, 10)
}

// BatchID is the id of the batch one probe run produces:
// "<connection>.<probe>.<slot>", plus "." + database for database-scoped
// probes. A rerun of the same job gives the same id.
func BatchID(connectionID int64, probe string, slot int64, database string) string {
	id := strconv.FormatInt(connectionID, 10) + "." + probe + "." + strconv.FormatInt(slot, 10)
	if database != "" {
		id += "." + database
	}
	return id
}

// checkToken rejects a name that cannot be one subject token: probe and
// timer names become the last token of a subject.
func checkToken(what, name string) error {
	if name == "" {
		return fmt.Errorf("%s name is empty", what)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c == 0x7f || c == '.' || c == '*' || c == '>' {
			return fmt.Errorf("%s name %q cannot be a subject token (no '.', '*', '>', spaces or control characters)", what, name)
		}
	}
	return nil
}

// jobWire and tickWire are the JSON bodies of jobs and ticks: small, so
// JSON costs nothing that matters and stays readable with `nats sub`.
type jobWire struct {
	V               int       `json:"v"`
	ConnectionID    int64     `json:"connection_id"`
	Probe           string    `json:"probe"`
	Slot            int64     `json:"slot"`
	IntervalSeconds int       `json:"interval_seconds"`
	ScheduledAt     time.Time `json:"scheduled_at"`
	Sole            bool      `json:"sole,omitempty"`
}

type tickWire struct {
	V      int       `json:"v"`
	Name   string    `json:"name"`
	Period string    `json:"period"`
	At     time.Time `json:"at"`
}

// EncodeJob returns the message for j: subject pgc.jobs.<probe>, message id
// JobID(j), and a small JSON body.
func EncodeJob(j Job) *nats.Msg {
	body, _ := json.Marshal(jobWire{versionPlain, j.ConnectionID, j.Probe, j.Slot, j.IntervalSeconds, j.ScheduledAt.UTC(), j.Sole})
	return &nats.Msg{
		Subject: JobSubject(j.Probe),
		Header:  nats.Header{jetstream.MsgIDHeader: {JobID(j)}},
		Data:    body,
	}
}

// DecodeJob reads a job body. It rejects unknown versions and bodies that
// are not a job.
func DecodeJob(data []byte, _ nats.Header) (Job, error) {
	var w jobWire
	if err := decodeJSON("job", data, &w, &w.V); err != nil {
		return Job{}, err
	}
	if w.Probe == "" {
		return Job{}, fmt.Errorf("decode job: no probe")
	}
	return Job{
		ConnectionID:    w.ConnectionID,
		Probe:           w.Probe,
		Slot:            w.Slot,
		IntervalSeconds: w.IntervalSeconds,
		ScheduledAt:     w.ScheduledAt,
		Sole:            w.Sole,
	}, nil
}

// EncodeTick returns the message for t: subject pgc.timers.<name>, message
// id Name + "." + Period, and a small JSON body.
func EncodeTick(t Tick) *nats.Msg {
	body, _ := json.Marshal(tickWire{versionPlain, t.Name, t.Period, t.At.UTC()})
	return &nats.Msg{
		Subject: TickSubject(t.Name),
		Header:  nats.Header{jetstream.MsgIDHeader: {t.Name + "." + t.Period}},
		Data:    body,
	}
}

// DecodeTick reads a tick body. It rejects unknown versions and bodies that
// are not a tick.
func DecodeTick(data []byte, _ nats.Header) (Tick, error) {
	var w tickWire
	if err := decodeJSON("tick", data, &w, &w.V); err != nil {
		return Tick{}, err
	}
	if w.Name == "" || w.Period == "" {
		return Tick{}, fmt.Errorf("decode tick: name and period are required")
	}
	return Tick{Name: w.Name, Period: w.Period, At: w.At}, nil
}

// decodeJSON unmarshals a JSON body and checks its "v" field.
func decodeJSON(what string, data []byte, into any, version *int) error {
	if err := json.Unmarshal(data, into); err != nil {
		return fmt.Errorf("decode %s: %w", what, err)
	}
	if err := checkVersion(strconv.Itoa(*version)); err != nil {
		if *version == 0 {
			return fmt.Errorf("decode %s: no message version (field v)", what)
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
