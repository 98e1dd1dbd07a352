package yamlx

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// segment is one step of a field path: a mapping key, or a sequence index
// when key is empty.
type segment struct {
	key string
	idx int
}

// splitPath parses "spec.guards[1].threshold".
func splitPath(path string) []segment {
	var out []segment
	for _, part := range strings.Split(path, ".") {
		key, rest, _ := strings.Cut(part, "[")
		if key != "" {
			out = append(out, segment{key: key})
		}
		for rest != "" {
			num, tail, _ := strings.Cut(rest, "]")
			i, err := strconv.Atoi(num)
			if err != nil {
				break
			}
			out = append(out, segment{idx: i})
			_, rest, _ = strings.Cut(tail, "[")
		}
	}
	return out
}

// LineOf finds the line of the field at path (dotted keys and [i] indexes,
// e.g. spec.guards[1].threshold) under root, the top-level mapping. A
// missing field (typically a required one) resolves to its nearest existing
// parent, which is where the user has to add it. A nil root gives 0.
func LineOf(root *yaml.Node, path string) int {
	if root == nil {
		return 0
	}
	n, line := root, root.Line
	for _, seg := range splitPath(path) {
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		switch {
		case seg.key != "" && n.Kind == yaml.MappingNode:
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == seg.key {
					line, n, found = n.Content[i].Line, n.Content[i+1], true
					break
				}
			}
			if !found {
				return line
			}
		case seg.key == "" && n.Kind == yaml.SequenceNode && seg.idx >= 0 && seg.idx < len(n.Content):
			n = n.Content[seg.idx]
			line = n.Line
		default:
			return line
		}
	}
	return line
}

// hint is what a decoder message says about the node it failed on.
type hint struct {
	key   string // a mapping key
	tag   string // the node's tag, e.g. !!str or !!map
	value string // a scalar's value or its first characters
}

// pathAt is the reverse of LineOf, for decoder errors that only know a
// line. With several fields on one line (flow style) the hint picks the
// right one; without a usable hint the outermost field on the line wins.
func pathAt(root *yaml.Node, line int, h hint) string {
	if root == nil || line <= 0 {
		return ""
	}
	best, bestScore := "", 0
	consider := func(l int, path, key string, v *yaml.Node) {
		if l != line {
			return
		}
		score := 1
		switch {
		case h.key != "":
			if key == h.key {
				score = 2
			}
		case h.tag == "!!map" || h.tag == "!!seq":
			if v.ShortTag() == h.tag {
				score = 2
			}
		case h.tag != "":
			if v.Kind == yaml.ScalarNode && strings.HasPrefix(v.Value, h.value) {
				score = 2
			}
		}
		// Ties among matches go to the deepest, others to the outermost.
		if score > bestScore || score > 1 && score == bestScore {
			best, bestScore = path, score
		}
	}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				consider(k.Line, p, k.Value, v)
				if v.Line != k.Line {
					consider(v.Line, p, "", v)
				}
				walk(v, p)
			}
		case yaml.SequenceNode:
			for i, v := range n.Content {
				p := fmt.Sprintf("%s[%d]", path, i)
				consider(v.Line, p, "", v)
				walk(v, p)
			}
		}
	}
	walk(root, "")
	return best
}
