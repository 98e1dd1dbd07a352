package signoff

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var roles = []string{"dev", "test", "sre"}

func TestResolveKeepsOnlyHoldersInRoleOrder(t *testing.T) {
	hs := Resolve(map[string][]string{"zoe": {"sre"}, "dana": {"dev", "sre"}, "bob": {"ops"}}, roles)
	assert.Equal(t, []Holders{{"dev", []string{"dana"}}, {"test", []string{}}, {"sre", []string{"dana", "zoe"}}}, hs)
	assert.Equal(t, []string{"dev", "sre"}, RolesOf(hs, "dana"))
	assert.Empty(t, RolesOf(hs, "bob"))
}

func TestFeasible(t *testing.T) {
	// An empty map means nobody signs, not anyone.
	err := Feasible(Resolve(nil, roles), false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "dev, test, sre")

	one := Resolve(map[string][]string{"dana": {"dev", "test", "sre"}}, roles)
	assert.NoError(t, Feasible(one, false), "one person may hold every role where distinct signers are off")
	err = Feasible(one, true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "distinct users")

	// Needs backtracking: a greedy pick of dana for dev leaves test unsigned.
	tricky := Resolve(map[string][]string{"dana": {"dev", "test"}, "sam": {"dev", "sre"}, "tess": {"sre"}}, roles)
	assert.NoError(t, Feasible(tricky, true))
	assert.Error(t, Feasible(Resolve(map[string][]string{"dana": {"dev", "test"}, "sam": {"dev", "test"}, "tess": {"dev", "test"}}, roles), true), "nobody holds sre")
	assert.Error(t, Feasible(Resolve(map[string][]string{"dana": {"dev", "test"}, "sam": {"sre"}}, roles), true), "two people for three roles")
}

func TestCheck(t *testing.T) {
	hs := Resolve(map[string][]string{"dana": {"dev", "sre"}, "tess": {"test"}}, roles)
	assert.NoError(t, Check(hs, false, "dev", "dana", nil))
	assert.ErrorContains(t, Check(hs, false, "ops", "dana", nil), `role "ops" is not required`)
	assert.ErrorContains(t, Check(hs, false, "dev", "mallory", nil), "not in the worker's role map")
	assert.ErrorContains(t, Check(hs, false, "test", "dana", nil), "does not hold role test (holds: dev, sre)")

	signed := []Signed{{Role: "dev", User: "dana"}}
	assert.NoError(t, Check(hs, false, "sre", "dana", signed), "distinct off: one person may sign two roles")
	assert.ErrorContains(t, Check(hs, true, "sre", "dana", signed), "already signed as dev")

	none := Resolve(map[string][]string{}, roles)
	assert.ErrorContains(t, Check(none, false, "dev", "dana", nil), "nobody may sign for dev")
}

// With distinct signers, a signature that would leave a remaining role to
// nobody but people who already signed is refused at once (the gate would
// otherwise wait until its timeout), naming who should sign instead.
func TestCheckDistinctNeverDeadlocks(t *testing.T) {
	hs := Resolve(map[string][]string{"x": {"dev", "sre"}, "y": {"dev"}}, []string{"dev", "sre"})
	require.NoError(t, Feasible(hs, true))
	err := Check(hs, true, "dev", "x", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "if x signs dev, distinct users can no longer sign the rest (sre: x): let another holder of dev sign it (y)")
	assert.NoError(t, Check(hs, true, "dev", "y", nil))
	assert.NoError(t, Check(hs, true, "sre", "x", nil))
	assert.NoError(t, Check(hs, true, "sre", "x", []Signed{{Role: "dev", User: "y"}}))
	assert.NoError(t, Check(hs, false, "dev", "x", nil), "distinct off: no such rule")
}
