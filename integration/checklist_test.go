package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/checklists"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/internal/duration"
	"github.com/gameday/gameday/scenarios"
)

// The loop the seed's chapter 5 describes, end to end through the CLI:
// three roles sign their checklist items, the run breaches a guard whose
// fault class matches the circuit-breaker item, the result goes to the
// checklist's entity, and after alerts in three releases that item's weight
// goes 15 % -> 50 % and becomes strong-blocking. Each postmortem carries the
// gate and the weight changes; each release ticket gets the evidence.
func TestChecklistLoopThroughCLI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	// A per-test checklist name keeps the entity workflow private to this test.
	cl, err := checklists.Find("release-default")
	require.NoError(t, err)
	cl.Metadata.Name = fmt.Sprintf("release-it-%d", time.Now().UnixNano()%1_000_000)
	clPath := filepath.Join(t.TempDir(), "checklist.yaml")
	writeYAML(t, clPath, cl)
	_, path := e.scenario("demo-inventory-latency", func(sc *scenarios.Scenario) {
		sc.Spec.Checklist = clPath
		sc.Spec.FaultClass = "network-delay"
		sc.Spec.Signoff.Roles = []string{"dev", "test", "sre"}
		sc.Spec.Signoff.Timeout = duration.Duration(5 * time.Minute)
	})
	users := map[string]string{"dev": "dana", "test": "tess", "sre": "sam"}

	var last experiment.Result
	for release := 1; release <= 3; release++ {
		ticket := fmt.Sprintf("REL-%d", release)
		id := fmt.Sprintf("it-checklist-%s-%d", ticket, time.Now().UnixNano())
		type cliResult struct {
			out, stderr string
			code        int
		}
		done := make(chan cliResult, 1)
		go func() {
			out, stderr, code := e.gameday(ctx, "run", path, "--wait", "--json", "--release-ticket", ticket, "--id", id)
			done <- cliResult{out, stderr, code}
		}()
		e.waitPhase(ctx, id, experiment.PhaseSignoff)

		if release == 1 {
			// A user without the role, and an item that is not the role's.
			_, stderr, code := e.gameday(ctx, "signoff", id, "--role", "sre", "--user", "dana", "--item", "trace-coloring=pass")
			assert.Equal(t, 1, code)
			assert.Contains(t, stderr, "user dana does not hold role sre")
			_, stderr, code = e.gameday(ctx, "signoff", id, "--role", "dev", "--user", "dana", "--item", "trace-coloring=pass")
			assert.Equal(t, 1, code)
			assert.Contains(t, stderr, "item trace-coloring is owned by sre, not dev")
		}
		for _, role := range []string{"dev", "test", "sre"} {
			args := []string{"signoff", id, "--role", role, "--user", users[role]}
			for _, it := range checklist.ItemsFor(cl, role) {
				args = append(args, "--item", it.ID+"=pass@https://ci.example/"+it.ID)
			}
			out, stderr, code := e.gameday(ctx, args...)
			require.Equal(t, 0, code, "%s: %s", role, stderr)
			assert.Contains(t, out, "signed as "+role)
		}
		res := <-done
		require.Equal(t, 3, res.code, "breached run exits 3; stderr: %s", res.stderr)
		require.NoError(t, json.Unmarshal([]byte(res.out), &last), res.out)
		assert.Equal(t, experiment.Aborted, last.Outcome)
		require.NotNil(t, last.Gate)
		assert.Equal(t, cl.Metadata.Name, last.Gate.Checklist)
		assert.True(t, last.Gate.Passed, "every item signed pass: %s", last.Gate.Reason)
		for _, it := range last.Gate.Items {
			assert.Equal(t, it.FaultClass == "network-delay", it.Alerted, "item %s alerted only for its fault class", it.ID)
		}
		ev, err := os.ReadFile(filepath.Join(e.cfg.PostmortemDir(), "release-"+ticket+".md"))
		require.NoError(t, err, "release evidence written locally without Jira")
		assert.Contains(t, string(ev), "[gameday-run "+id+"/", "one entry per run (workflow id + run id)")
		if release < 3 {
			assert.Empty(t, last.WeightChanges, "release %d: no rule fires yet", release)
		}
	}

	require.Len(t, last.WeightChanges, 1, "%+v", last.WeightChanges)
	ch := last.WeightChanges[0]
	assert.Equal(t, "cb-fallback", ch.ItemID)
	assert.Equal(t, 15.0, ch.OldWeight)
	assert.Equal(t, 50.0, ch.NewWeight)
	assert.True(t, ch.NewBlocking)
	assert.Equal(t, checklist.RuleAlerting, ch.Rule)
	pm, err := os.ReadFile(last.Postmortem)
	require.NoError(t, err)
	assert.Contains(t, string(pm), "## Release checklist "+cl.Metadata.Name)
	assert.Contains(t, string(pm), "| cb-fallback | 15% → 50% | true → true | alerting |")
	recordHistoryTo(t, e, last.WorkflowID, "GAMEDAY_RECORD_CHECKLIST_HISTORY")
	recordHistoryTo(t, e, "gameday-checklist-"+cl.Metadata.Name, "GAMEDAY_RECORD_ENTITY_HISTORY")

	out, stderr, code := e.gameday(ctx, "checklist", "show", clPath, "--json")
	require.Equal(t, 0, code, stderr)
	var st struct {
		Runs  int                   `json:"runs"`
		Items []checklist.ItemState `json:"items"`
		Audit []checklist.Change    `json:"audit"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &st), out)
	assert.Equal(t, 3, st.Runs)
	require.Len(t, st.Audit, 1)
	for _, it := range st.Items {
		if it.ItemID == "cb-fallback" {
			assert.Equal(t, 50.0, it.Weight)
			assert.True(t, it.StrongBlocking)
		}
	}
	out, _, code = e.gameday(ctx, "checklist", "show", clPath)
	require.Equal(t, 0, code)
	assert.True(t, strings.Contains(out, "cb-fallback") && strings.Contains(out, "50%"), out)
}

// `gameday checklist schedule` creates the review Schedule (a second call
// updates it); each tick evaluates the weight rule on the checklist entity,
// creating it if no run has yet.
func TestChecklistScheduleReviewsWeights(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cl, err := checklists.Find("release-default")
	require.NoError(t, err)
	cl.Metadata.Name = fmt.Sprintf("sched-it-%d", time.Now().UnixNano()%1_000_000)
	clPath := filepath.Join(t.TempDir(), "checklist.yaml")
	writeYAML(t, clPath, cl)

	out, stderr, code := e.gameday(ctx, "checklist", "schedule", clPath, "--every", "2s")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "created")
	t.Cleanup(func() {
		_ = e.client.ScheduleClient().GetHandle(context.Background(), "gameday-checklist-"+cl.Metadata.Name+"-quarterly").Delete(context.Background())
	})
	out, stderr, code = e.gameday(ctx, "checklist", "schedule", clPath, "--every", "2s")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "updated", "idempotent")

	require.Eventually(t, func() bool { return entityExists(ctx, e, cl.Metadata.Name) },
		time.Minute, 200*time.Millisecond, "a scheduled review created the checklist entity")
	out, stderr, code = e.gameday(ctx, "checklist", "show", clPath, "--json")
	require.Equal(t, 0, code, stderr)
	assert.NotContains(t, stderr, "no run has recorded results yet", "answered by the entity, not the file")
	assert.Contains(t, out, `"runs": 0`)
}

func entityExists(ctx context.Context, e *env, name string) bool {
	_, err := e.client.DescribeWorkflowExecution(ctx, "gameday-checklist-"+name, "")
	return err == nil
}
