package sli

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A Prometheus API stand-in that answers /api/v1/query by the query text,
// with the response bodies the real server sends.
func fakeProm(t *testing.T) *Prometheus {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		switch r.Form.Get("query") {
		case "one":
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"0.42"]}]}}`))
		case "scalar":
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"scalar","result":[1700000000,"7"]}}`))
		case "empty":
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[]}}`))
		case "two":
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1"},"value":[1700000000,"1"]},{"metric":{"a":"2"},"value":[1700000000,"2"]}]}}`))
		default:
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected identifier"}`))
		}
	}))
	t.Cleanup(srv.Close)
	p, err := NewPrometheus(srv.URL)
	require.NoError(t, err)
	return p
}

func TestPrometheusQuery(t *testing.T) {
	p := fakeProm(t)
	ctx := context.Background()
	now := time.Now()

	v, err := p.Query(ctx, "one", now)
	require.NoError(t, err)
	assert.Equal(t, 0.42, v)

	v, err = p.Query(ctx, "scalar", now)
	require.NoError(t, err)
	assert.Equal(t, 7.0, v)

	_, err = p.Query(ctx, "empty", now)
	assert.ErrorIs(t, err, ErrNoData)

	var bq *BadQueryError
	_, err = p.Query(ctx, "two", now)
	require.True(t, errors.As(err, &bq), "%v", err)
	assert.Contains(t, err.Error(), "returned 2 series")

	_, err = p.Query(ctx, "rate(x[", now)
	require.True(t, errors.As(err, &bq), "%v", err)
	assert.Contains(t, err.Error(), "parse error")
}

func TestPrometheusUnreachableIsRetryable(t *testing.T) {
	p, err := NewPrometheus("http://127.0.0.1:1")
	require.NoError(t, err)
	_, err = p.Query(context.Background(), "up", time.Now())
	require.Error(t, err)
	var bq *BadQueryError
	assert.False(t, errors.As(err, &bq))
	assert.Contains(t, err.Error(), "127.0.0.1:1")
}
