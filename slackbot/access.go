package slackbot

import (
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/gameday/gameday/internal/yamlx"
	"github.com/gameday/gameday/scenarios"
	"github.com/gameday/gameday/signoff"
)

// AccessKind is the kind of the access file (apiVersion gameday/v1).
const AccessKind = "SlackAccess"

// Action is something a Slack user asks the bot to do.
type Action string

const (
	ActionRun    Action = "run"
	ActionDryRun Action = "dry-run"
	ActionAbort  Action = "abort"
	ActionStatus Action = "status"
	ActionList   Action = "list"
	// ActionPause removes a run's faults and holds it: stopping chaos, so
	// the abort grant. ActionResume injects them again: the run grant on
	// the run's scenario. ActionNote: any user in the access file.
	ActionPause  Action = "pause"
	ActionResume Action = "resume"
	ActionNote   Action = "note"
	// ActionKillSwitch is /gameday abort all and /gameday freeze on|off.
	ActionKillSwitch Action = "kill-switch"
)

// User is one Slack user's grants. Name is what the workflow records (who
// started, signed or aborted) and must match the sign-off role map
// (GAMEDAY_ROLES) the workflow's validator checks, so a Slack sign-off is
// refused or accepted exactly like a CLI one.
type User struct {
	Name  string   `yaml:"name"`
	Roles []string `yaml:"roles"` // sign-off roles: dev, test, sre
	// Run holds path.Match globs of the scenarios the user may run or
	// dry-run ("demo-*").
	Run []string `yaml:"run"`
	// Environments, when set, limits run and dry-run to scenarios whose
	// environment label is one of these. A scenario without the label is
	// not restricted by it.
	Environments []string `yaml:"environments"`
	// Abort lets the user abort any run: stopping chaos is the safe
	// direction, so it is not tied to the run globs.
	Abort bool `yaml:"abort"`
	// KillSwitch lets the user abort every running run at once (/gameday
	// abort all) and freeze or unfreeze new runs (/gameday freeze on|off):
	// both reach every run of the installation, so they are granted
	// apart from abort.
	KillSwitch bool `yaml:"kill_switch"`
	// Override holds path.Match globs of the key=value overrides the user
	// may give with run and dry-run ("duration", "latency",
	// "inventory-latency.*", "*"). None: the scenario runs as written. The
	// worker's maximum fault duration applies whatever is allowed here.
	Override []string `yaml:"override"`
}

// Access is the access file: who may do what from Slack. Slack user ids
// are the keys because display names are neither unique nor stable.
type Access struct {
	APIVersion string          `yaml:"apiVersion"`
	Kind       string          `yaml:"kind"`
	Users      map[string]User `yaml:"users"`
}

var accessSchema = yamlx.Schema{APIVersion: scenarios.APIVersion, Kind: AccessKind}

// slackUserID is the shape of Slack user ids (U… in a workspace, W… on
// Enterprise Grid); a display name in its place would never match.
var slackUserID = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)

// accessLoader is the strict access-file loader (no catalog).
var accessLoader = yamlx.Loader[Access]{Schema: accessSchema, Check: checkAccess}

// LoadAccess reads and validates an access file; see ParseAccess.
func LoadAccess(file string) (Access, error) { return accessLoader.Load(file) }

// ParseAccess strictly decodes one access file. Strict, like scenarios and
// checklists, because a misspelt "abrot: true" or "role:" would silently
// take a permission away (or, worse, leave one in place). Errors name
// FILE:LINE: FIELD.
func ParseAccess(file string, data []byte) (Access, error) { return accessLoader.Parse(file, data) }

func checkAccess(v *yamlx.Collector, a *Access) {
	v.Type(accessSchema, a.APIVersion, a.Kind)
	if len(a.Users) == 0 {
		v.Add("users", "at least one user is required (keys are Slack user ids such as U012AB3CD)")
	}
	for _, id := range slices.Sorted(maps.Keys(a.Users)) {
		checkUser(v, id, a.Users[id])
	}
}

func checkUser(v *yamlx.Collector, id string, u User) {
	p := "users." + id
	if !slackUserID.MatchString(id) {
		v.Add(p, "key must be a Slack user id such as U012AB3CD (profile → ⋮ → Copy member ID), got %q", id)
	}
	if strings.TrimSpace(u.Name) == "" {
		v.Add(p+".name", "required: the name runs and sign-offs are recorded under (as in GAMEDAY_ROLES)")
	}
	for i, r := range u.Roles {
		if !slices.Contains(signoff.Roles, r) {
			v.Add(fmt.Sprintf("%s.roles[%d]", p, i), "unknown role %q (one of %s)", r, strings.Join(signoff.Roles, ", "))
		}
	}
	for i, g := range u.Run {
		// path.Match reports a malformed pattern only when it gets that
		// far, so test it against a name it cannot match early.
		if _, err := path.Match(g, "\x00"); err != nil || g == "" {
			v.Add(fmt.Sprintf("%s.run[%d]", p, i), "invalid glob %q (use * and ? as in demo-*)", g)
		}
	}
	for i, g := range u.Override {
		if _, err := path.Match(g, "\x00"); err != nil || g == "" {
			v.Add(fmt.Sprintf("%s.override[%d]", p, i), "invalid glob %q (a key such as duration, latency or inventory-latency.*)", g)
		}
	}
	for i, e := range u.Environments {
		if strings.TrimSpace(e) == "" {
			v.Add(fmt.Sprintf("%s.environments[%d]", p, i), "must not be empty")
		}
	}
}

// user returns a known user or the refusal every action gets for an
// unknown one.
func (a Access) user(userID string) (User, error) {
	if u, ok := a.Users[userID]; ok {
		return u, nil
	}
	return User{}, fmt.Errorf("you (%s) are not in the game-day access file; ask an admin to add your Slack member id", userID)
}

// Name is the recorded name of a known user ("" when unknown).
func (a Access) Name(userID string) string {
	u, _ := a.user(userID)
	return u.Name
}

// Can reports whether userID may do action; scenario is the catalog name
// for run and dry-run and is ignored otherwise. The error is the refusal,
// written to be shown to that user.
func (a Access) Can(userID string, action Action, scenario string) error {
	u, err := a.user(userID)
	if err != nil {
		return err
	}
	switch action {
	case ActionRun, ActionDryRun, ActionResume:
		for _, g := range u.Run {
			if ok, _ := path.Match(g, scenario); ok {
				return nil
			}
		}
		if len(u.Run) == 0 {
			return fmt.Errorf("%s may not %s scenarios (no run globs in the access file)", u.Name, action)
		}
		return fmt.Errorf("%s may not %s %s (allowed: %s)", u.Name, action, scenario, strings.Join(u.Run, ", "))
	case ActionAbort:
		if !u.Abort {
			return fmt.Errorf("%s may not abort runs (abort: true is not set in the access file)", u.Name)
		}
		return nil
	case ActionKillSwitch:
		if !u.KillSwitch {
			return fmt.Errorf("%s may not abort every run or freeze new runs (kill_switch: true is not set in the access file)", u.Name)
		}
		return nil
	case ActionPause:
		if !u.Abort {
			return fmt.Errorf("%s may not pause runs (pausing needs the abort grant: abort: true is not set in the access file)", u.Name)
		}
		return nil
	case ActionStatus, ActionList, ActionNote:
		return nil
	}
	return fmt.Errorf("unknown action %q", action)
}

// CanRunScenario is Can for run and dry-run plus the environment limit,
// which needs the scenario's labels.
func (a Access) CanRunScenario(userID string, action Action, sc scenarios.Scenario) error {
	if err := a.Can(userID, action, sc.Metadata.Name); err != nil {
		return err
	}
	u, _ := a.user(userID)
	env := sc.Metadata.Labels[scenarios.EnvironmentLabel]
	if env == "" || len(u.Environments) == 0 || slices.Contains(u.Environments, env) {
		return nil
	}
	return fmt.Errorf("%s may not run in environment %s (allowed: %s)", u.Name, env, strings.Join(u.Environments, ", "))
}

// CanOverride reports whether userID may give every one of the override
// keys (sorted in the refusal, which names the first key not allowed).
func (a Access) CanOverride(userID string, keys []string) error {
	u, err := a.user(userID)
	if err != nil {
		return err
	}
	for _, k := range slices.Sorted(slices.Values(keys)) {
		ok := false
		for _, g := range u.Override {
			if m, _ := path.Match(g, k); m {
				ok = true
				break
			}
		}
		if !ok {
			allowed := "none"
			if len(u.Override) > 0 {
				allowed = strings.Join(u.Override, ", ")
			}
			return fmt.Errorf("%s may not override %s (allowed: %s; an admin can add it under override: in the access file)", u.Name, k, allowed)
		}
	}
	return nil
}

// CanSign reports whether userID holds the sign-off role. It is checked
// before the engine is asked, so a user without the role never reaches the
// workflow's validator with a name that happens to hold it.
func (a Access) CanSign(userID, role string) error {
	u, err := a.user(userID)
	if err != nil {
		return err
	}
	if slices.Contains(u.Roles, role) {
		return nil
	}
	held := "none"
	if len(u.Roles) > 0 {
		held = strings.Join(u.Roles, ", ")
	}
	return fmt.Errorf("%s does not hold the sign-off role %s (holds: %s)", u.Name, role, held)
}
