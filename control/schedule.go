package control

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// ensureSchedule creates a Schedule running action every interval, or
// updates the interval and action of the existing one: idempotent.
func ensureSchedule(ctx context.Context, c client.Client, id string, every time.Duration, action *client.ScheduleWorkflowAction) (string, bool, error) {
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: every}}}
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{ID: id, Spec: spec, Action: action})
	if err == nil {
		return id, true, nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		var exists *serviceerror.AlreadyExists
		if !errors.As(err, &exists) {
			return id, false, fmt.Errorf("create schedule %s: %w", id, err)
		}
	}
	h := c.ScheduleClient().GetHandle(ctx, id)
	err = h.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
		in.Description.Schedule.Spec = &spec
		in.Description.Schedule.Action = action
		return &client.ScheduleUpdate{Schedule: &in.Description.Schedule}, nil
	}})
	if err != nil {
		return id, false, fmt.Errorf("update schedule %s: %w", id, err)
	}
	return id, false, nil
}
