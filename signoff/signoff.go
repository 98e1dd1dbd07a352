// Package signoff holds the rules of the sign-off gate that do not depend on
// Temporal: who may sign for which role, whether a gate can be completed at
// all with the people the worker knows, and whether one person may sign
// for two roles. The workflow's validators and the Slack bot both use it,
// so a button and the validator never disagree.
package signoff

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Roles are the roles that may sign off, and that own checklist items:
// the seed's three-party electronic sign-off by the development lead, the
// test lead and SRE. The one list every loader and the Slack access file
// check against.
var Roles = []string{"dev", "test", "sre"}

// Holders is one role and the users who may sign for it.
type Holders struct {
	Role  string   `json:"role"`
	Users []string `json:"users"`
}

// Resolve turns a user → roles map (the worker's GAMEDAY_ROLES) into the
// holders of each required role, in the order the roles are required and
// with users sorted, so that what the run records is the same however the
// map was built. Users holding none of the roles are left out: the run
// records who could sign it, not the whole organisation.
func Resolve(users map[string][]string, required []string) []Holders {
	out := make([]Holders, 0, len(required))
	for _, role := range required {
		h := Holders{Role: role, Users: []string{}}
		for _, u := range slices.Sorted(maps.Keys(users)) {
			if slices.Contains(users[u], role) {
				h.Users = append(h.Users, u)
			}
		}
		out = append(out, h)
	}
	return out
}

// Of returns the users who may sign for role.
func Of(hs []Holders, role string) []string {
	for _, h := range hs {
		if h.Role == role {
			return h.Users
		}
	}
	return nil
}

// RolesOf returns the roles user may sign for, in order.
func RolesOf(hs []Holders, user string) []string {
	var out []string
	for _, h := range hs {
		if slices.Contains(h.Users, user) {
			out = append(out, h.Role)
		}
	}
	return out
}

// Feasible reports why a gate needing the roles of hs can never be
// completed: a role nobody holds, or (distinct) fewer distinct people than
// roles for some set of roles. Nil when it can be. A gate nobody can
// complete would otherwise hold the run until its sign-off timeout.
func Feasible(hs []Holders, distinct bool) error {
	var none []string
	for _, h := range hs {
		if len(h.Users) == 0 {
			none = append(none, h.Role)
		}
	}
	if len(none) > 0 {
		return fmt.Errorf("nobody holds the sign-off role %s in the worker's role map (GAMEDAY_ROLES on the worker)", strings.Join(none, ", "))
	}
	if distinct && !assignable(hs, 0, map[string]bool{}) {
		return fmt.Errorf("distinct users must sign distinct roles here, and the role map has no such set of signers (%s)", describe(hs))
	}
	return nil
}

// assignable finds a distinct user per role by backtracking: there are at
// most three roles, so this is at most a few hundred steps.
func assignable(hs []Holders, i int, used map[string]bool) bool {
	if i == len(hs) {
		return true
	}
	for _, u := range hs[i].Users {
		if used[u] {
			continue
		}
		used[u] = true
		ok := assignable(hs, i+1, used)
		delete(used, u)
		if ok {
			return true
		}
	}
	return false
}

// Signed is a sign-off already given (role and user).
type Signed struct{ Role, User string }

// Check says whether user may sign role now: the role is required, the
// user holds it, and (distinct) the user has not already signed another
// role. hs empty with roles required means nobody may sign.
func Check(hs []Holders, distinct bool, role, user string, signed []Signed) error {
	var required []string
	for _, h := range hs {
		required = append(required, h.Role)
	}
	if !slices.Contains(required, role) {
		return fmt.Errorf("role %q is not required (required: %s)", role, strings.Join(required, ", "))
	}
	holders := Of(hs, role)
	if len(holders) == 0 {
		return fmt.Errorf("nobody may sign for %s: the worker's role map (GAMEDAY_ROLES) gives it to no one", role)
	}
	if !slices.Contains(holders, user) {
		held := RolesOf(hs, user)
		if len(held) == 0 {
			return fmt.Errorf("user %s may not sign for %s: not in the worker's role map for this run (%s may)", user, role, strings.Join(holders, ", "))
		}
		return fmt.Errorf("user %s does not hold role %s (holds: %s)", user, role, strings.Join(held, ", "))
	}
	if distinct {
		used := map[string]bool{user: true}
		for _, s := range signed {
			if s.User == user && s.Role != role {
				return fmt.Errorf("user %s already signed as %s: distinct users must sign distinct roles in this environment (GAMEDAY_DISTINCT_SIGNERS)", user, s.Role)
			}
			used[s.User] = true
		}
		// A signature that leaves some remaining role to nobody but the
		// people who already signed would hold the run until its
		// timeout: refuse it now and say who should sign instead.
		var rest []Holders
		for _, h := range hs {
			if h.Role == role || slices.ContainsFunc(signed, func(s Signed) bool { return s.Role == h.Role }) {
				continue
			}
			rest = append(rest, h)
		}
		if !assignable(rest, 0, used) {
			return fmt.Errorf("if %s signs %s, distinct users can no longer sign the rest (%s): let another holder of %s sign it (%s)",
				user, role, describe(rest), role, strings.Join(slices.DeleteFunc(slices.Clone(holders), func(u string) bool { return u == user }), ", "))
		}
	}
	return nil
}

func describe(hs []Holders) string {
	parts := make([]string, 0, len(hs))
	for _, h := range hs {
		parts = append(parts, h.Role+": "+strings.Join(h.Users, ", "))
	}
	return strings.Join(parts, "; ")
}
