package yamlx

import (
	"sort"
	"strings"
)

// Suggest returns up to three catalog names close to a mistyped one, best
// first: typing a scenario name from memory (in a chat box, a plan file) is
// exactly where typos happen, and "did you mean" is faster than reading the whole list.
// A name is close when its edit distance is small for its length, or when
// one contains the other (a prefix such as "demo-inventory").
func Suggest(name string, names []string) []string {
	name = strings.ToLower(name)
	type cand struct {
		name string
		d    int
	}
	var cs []cand
	for _, n := range names {
		d := levenshtein(name, strings.ToLower(n))
		limit := max(2, len(name)/3)
		if d <= limit || (len(name) >= 3 && strings.Contains(strings.ToLower(n), name)) {
			cs = append(cs, cand{n, d})
		}
	}
	sort.SliceStable(cs, func(i, j int) bool {
		if cs[i].d != cs[j].d {
			return cs[i].d < cs[j].d
		}
		return cs[i].name < cs[j].name
	})
	var out []string
	for i := 0; i < len(cs) && i < 3; i++ {
		out = append(out, cs[i].name)
	}
	return out
}

// levenshtein is the edit distance (insertions, deletions, substitutions)
// between a and b, by runes, in O(len(b)) memory.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
