package report

import (
	"context"
	"sync"
	"time"

	"github.com/gameday/gameday/sli"
)

// QueryTimeout bounds each guard's range query from the CLI; the report
// step passes less (it must not hold a run's end on a Prometheus that is
// down: a healthy one answers a report's window in milliseconds).
const QueryTimeout = 15 * time.Second

// Collect runs every guard's range query over w, concurrently, each bounded
// by timeout. A failed query is recorded in its Series (the chart says so);
// it never fails the report. A probe guard has no query: its Series says
// so and nothing is sent.
func Collect(ctx context.Context, q sli.RangeQuerier, guards []sli.Guard, w Window, timeout time.Duration) []Series {
	out := make([]Series, len(guards))
	var wg sync.WaitGroup
	for i, g := range guards {
		out[i].Guard = g.Name
		if g.IsProbe() {
			out[i].Probe = true
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			qctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			pts, err := q.QueryRange(qctx, g.Query, w.From, w.To, w.Step)
			if err != nil {
				out[i].Err = err.Error()
				return
			}
			out[i].Points = pts
		}()
	}
	wg.Wait()
	return out
}
