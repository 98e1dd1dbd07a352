package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	"github.com/gameday/gameday/sli"
)

// The pre-flight reads each guard once: an answer is a value (healthy or
// not, NaN included), a query Prometheus refuses fails for good, no answer
// yet is retried with the values so far.
func TestPreflight(t *testing.T) {
	q := &seqQuerier{values: map[string][]float64{"ok": {0.1}, "high": {3}, "nan": {math.NaN()}}, errs: map[string]error{}}
	a := &Activities{Prom: q}
	ctx := context.Background()

	res, err := a.Preflight(ctx, PreflightInput{Guards: []sli.Guard{guard("ok", 1)}})
	require.NoError(t, err)
	assert.True(t, res.Healthy)
	assert.Equal(t, 0.1, float64(res.Values[0].Value))

	res, err = a.Preflight(ctx, PreflightInput{Guards: []sli.Guard{guard("ok", 1), guard("high", 1), guard("nan", 1)}})
	require.NoError(t, err, "unhealthy is an answer, not an error")
	assert.False(t, res.Healthy)
	assert.True(t, res.Values[0].Healthy)
	assert.False(t, res.Values[1].Healthy)
	assert.False(t, res.Values[2].Healthy, "NaN is not healthy unless on_no_data: ignore")

	q.errs["bad"] = &sli.BadQueryError{Query: "bad", Msg: "parse error"}
	_, err = a.Preflight(ctx, PreflightInput{Guards: []sli.Guard{guard("ok", 1), guard("bad", 1)}})
	var app *temporal.ApplicationError
	require.ErrorAs(t, err, &app)
	assert.True(t, app.NonRetryable())
	assert.Equal(t, ErrTypeBadQuery, app.Type())
	assert.Contains(t, app.Message(), "pre-flight guard bad: invalid query")

	q.errs["empty"] = sli.ErrNoData
	_, err = a.Preflight(ctx, PreflightInput{Guards: []sli.Guard{guard("empty", 1)}})
	require.ErrorAs(t, err, &app)
	assert.False(t, app.NonRetryable(), "no data yet: retried")
	var got PreflightResult
	require.NoError(t, app.Details(&got))
	assert.True(t, got.Values[0].NoData, "the values travel with the error")

	ignore := guard("empty", 1)
	ignore.OnNoData = sli.OnNoDataIgnore
	res, err = a.Preflight(ctx, PreflightInput{Guards: []sli.Guard{ignore}})
	require.NoError(t, err)
	assert.True(t, res.Healthy, "on_no_data: ignore")
}

type fakeUpdater struct{ err error }

func (f fakeUpdater) UpdateRun(context.Context, string, string, json.RawMessage) error { return f.err }

func TestForwardUpdateRefusalsAreAnswers(t *testing.T) {
	for _, tc := range []struct {
		err     error
		refused string
		retried bool
	}{
		{nil, "", false},
		{temporal.NewApplicationError("run is already past observe", "Error"), "run is already past observe", false},
		{errors.New("unknown update pause-update. KnownUpdates=[abort-update]"), "the run does not know pause-update (started by an older worker)", false},
		{serviceerror.NewNotFound("workflow execution already completed"), "the run has ended", false},
		{serviceerror.NewUnavailable("connection refused"), "", true},
		{fmt.Errorf("wrapped: %w", context.DeadlineExceeded), "", true},
	} {
		a := &Activities{Updates: fakeUpdater{tc.err}}
		res, err := a.ForwardUpdate(context.Background(), ForwardInput{WorkflowID: "w", Update: "pause-update", Arg: []byte(`{}`)})
		if tc.retried {
			assert.Error(t, err, "%v", tc.err)
			continue
		}
		require.NoError(t, err, "%v", tc.err)
		assert.Contains(t, res.Refused, tc.refused, "%v", tc.err)
		if tc.refused == "" {
			assert.Empty(t, res.Refused)
		}
	}
	_, err := (&Activities{}).ForwardUpdate(context.Background(), ForwardInput{})
	assert.ErrorContains(t, err, "no Temporal client")
}
