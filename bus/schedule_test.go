package bus

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestScheduleCheckpointRoundTrip(t *testing.T) {
	b := openBus(t, testConfig(t))
	ctx := testCtx(t)
	s, err := b.JS().Stream(ctx, StreamSchedule)
	require.NoError(t, err)
	require.Equal(t, int64(1), s.CachedInfo().Config.MaxMsgsPerSubject)

	got, err := b.LoadSchedule(ctx, []string{"pg_database"})
	require.NoError(t, err)
	require.Empty(t, got, "nothing saved yet")

	big := ProbeSlots{Probe: "pg_stat_all_tables", IntervalSeconds: 300, Slots: map[int64]int64{}}
	for id := int64(1); id <= 10000; id++ {
		big.Slots[id*3] = 5_900_000 + id%2 // slots within one of each other
	}
	big.Slots[7] = 12 // and one far off
	require.NoError(t, b.SaveSchedule(ctx, ProbeSlots{Probe: "pg_stat_all_tables", IntervalSeconds: 300,
		Slots: map[int64]int64{1: 1}}))
	require.NoError(t, b.SaveSchedule(ctx, big))
	require.NoError(t, b.SaveSchedule(ctx, ProbeSlots{Probe: "pg_connectivity", IntervalSeconds: 30,
		Slots: map[int64]int64{}}))
	m, err := s.GetLastMsgForSubject(ctx, ScheduleSubject(big.Probe))
	require.NoError(t, err)
	require.Less(t, len(m.Data), 4*len(big.Slots), "a few bytes a connection")

	got, err = b.LoadSchedule(ctx, []string{"pg_connectivity", "pg_database", "pg_stat_all_tables"})
	require.NoError(t, err)
	require.Len(t, got, 2, "pg_database has none")
	require.Equal(t, "pg_connectivity", got[0].Probe)
	require.Empty(t, got[0].Slots)
	require.Equal(t, big, got[1], "the last save replaces the one before")
	info, err := s.Info(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(2), info.State.Msgs, "one message per probe")

	// A damaged checkpoint costs only its own probe.
	_, err = b.JS().Publish(ctx, ScheduleSubject("pg_connectivity"), []byte{scheduleVersion, 30, 5, 1})
	require.NoError(t, err)
	got, err = b.LoadSchedule(ctx, []string{"pg_connectivity", "pg_stat_all_tables"})
	require.ErrorContains(t, err, "schedule checkpoint of pg_connectivity")
	require.Len(t, got, 1)
	require.Equal(t, big, got[0])

	require.ErrorContains(t, b.SaveSchedule(ctx, ProbeSlots{Probe: "a.b", IntervalSeconds: 1}), "subject token")
}

func TestDecodeSlotsRejectsDamage(t *testing.T) {
	good := encodeSlots(ProbeSlots{Probe: "p", IntervalSeconds: 60, Slots: map[int64]int64{1: 100, 2: 101, 9: 99}})
	p, err := decodeSlots("p", good)
	require.NoError(t, err)
	require.Equal(t, map[int64]int64{1: 100, 2: 101, 9: 99}, p.Slots)
	for name, data := range map[string][]byte{
		"empty":     nil,
		"version":   append([]byte{9}, good[1:]...),
		"truncated": good[:len(good)-1],
		"trailing":  append(append([]byte(nil), good...), 0),
		"interval":  {scheduleVersion, 0, 0},
		"count":     {scheduleVersion, 60, 100, 1, 1},
	} {
		_, err := decodeSlots("p", data)
		require.Error(t, err, name)
	}
}
