package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/gameday/gameday/control"
)

// A paused schedule's due times start nothing: list says so rather than
// "next: 10:30" under a PAUSED header.
func TestScheduleListPausedHasNoNextRun(t *testing.T) {
	at := time.Date(2027, 3, 1, 10, 30, 0, 0, time.Local)
	var out bytes.Buffer
	printSchedules(&out, []control.ScheduleStatus{
		{ID: "gameday-schedule.seed.a", What: "scenario a", When: "cron 30 10 * * * UTC", Paused: true, Note: "paused on failure", Next: []time.Time{at}},
		{ID: "gameday-schedule.seed.b", What: "scenario b", When: "every 1h", Next: []time.Time{at}},
	})
	assert.Contains(t, out.String(), "gameday-schedule.seed.a  (PAUSED: paused on failure)\n  what: scenario a\n  when: cron 30 10 * * * UTC\n  next: none while paused (due: 2027-03-01 10:30:00")
	assert.Contains(t, out.String(), "gameday-schedule.seed.b  (active)\n  what: scenario b\n  when: every 1h\n  next: 2027-03-01 10:30:00")
}
