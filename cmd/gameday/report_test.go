package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/gameday/gameday/config"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/report"
	"github.com/gameday/gameday/sli"
)

// `gameday report` refuses a window Prometheus has nothing of; a probe
// guard is never queried (its answers are the run's own), so a run guarded
// by probes alone still gets its report, and a probe does not hide that
// the queried guards came back empty.
func TestLostDataIgnoresProbeGuards(t *testing.T) {
	cfg := config.Config{PrometheusURL: "http://prom:9090"}
	r := experiment.Result{WorkflowID: "wf"}
	w := report.Window{From: time.Unix(0, 0), To: time.Unix(600, 0), Step: time.Second}
	probe := report.Series{Guard: "order-probe", Probe: true}
	assert.NoError(t, lostData(cfg, r, []report.Series{probe}, w), "probes alone: nothing was lost")
	assert.NoError(t, lostData(cfg, r, []report.Series{probe, {Guard: "p95", Points: []sli.Point{{At: time.Unix(1, 0), Value: 1}}}}, w))
	assert.ErrorContains(t, lostData(cfg, r, []report.Series{probe, {Guard: "p95"}}, w), "no samples of any guard")
	assert.ErrorContains(t, lostData(cfg, r, []report.Series{probe, {Guard: "p95", Err: "503"}}, w), "cannot read the guards")
}
