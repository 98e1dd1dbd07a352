package sli

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Prometheus queries a Prometheus server's HTTP API.
type Prometheus struct {
	api v1.API
	url string
}

func NewPrometheus(url string) (*Prometheus, error) {
	c, err := api.NewClient(api.Config{Address: url})
	if err != nil {
		return nil, fmt.Errorf("prometheus client for %s: %w", url, err)
	}
	return &Prometheus{api: v1.NewAPI(c), url: url}, nil
}

// BadQueryError marks a query Prometheus rejected (bad PromQL): retrying
// cannot help, so activities make it non-retryable.
type BadQueryError struct {
	Query string
	Msg   string
}

func (e *BadQueryError) Error() string { return fmt.Sprintf("invalid query %q: %s", e.Query, e.Msg) }

// Query returns the single value of an instant query. A vector with more
// than one series is an error: a guard must aggregate to one number.
func (p *Prometheus) Query(ctx context.Context, query string, at time.Time) (float64, error) {
	val, _, _, err := p.api.Query(ctx, query, at)
	if err != nil {
		var perr *v1.Error
		if errors.As(err, &perr) && perr.Type == v1.ErrBadData {
			return 0, &BadQueryError{Query: query, Msg: perr.Msg}
		}
		return 0, fmt.Errorf("prometheus %s: %w", p.url, err)
	}
	switch v := val.(type) {
	case *model.Scalar:
		return float64(v.Value), nil
	case model.Vector:
		if len(v) == 0 {
			return math.NaN(), ErrNoData
		}
		if len(v) > 1 {
			return 0, &BadQueryError{Query: query, Msg: fmt.Sprintf("returned %d series; a guard must aggregate to one (wrap it in sum/max/histogram_quantile)", len(v))}
		}
		return float64(v[0].Value), nil
	default:
		return 0, &BadQueryError{Query: query, Msg: fmt.Sprintf("returned a %s; want a scalar or a one-element vector", val.Type())}
	}
}

// Ready reports whether the server answers.
func (p *Prometheus) Ready(ctx context.Context) error {
	_, err := p.api.Buildinfo(ctx)
	return err
}
