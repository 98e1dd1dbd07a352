package config

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// envFuncs are the calls that read or change the process environment.
var envFuncs = map[string][]string{
	"os":      {"Getenv", "LookupEnv", "Environ", "Setenv", "Unsetenv", "Clearenv", "ExpandEnv"},
	"syscall": {"Getenv", "Environ", "Setenv", "Unsetenv", "Clearenv"},
}

// envAllowed are the only non-test files outside config that may touch the
// environment: the failpoints of crash-test builds (-tags failpoints), whose
// GAMEDAY_FAILPOINTS is a test switch, not configuration.
var envAllowed = []string{"internal/failpoint/"}

type envCall struct {
	file, fn, call string
	line           int
}

// envCalls lists every environment call in the non-test Go files of the
// module (nested modules, such as tools/, are not gameday's code).
func envCalls(t *testing.T, root string) []envCall {
	var out []envCall
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root {
				if n := d.Name(); strings.HasPrefix(n, ".") || n == "testdata" || n == "vendor" {
					return filepath.SkipDir
				}
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		names := map[string]string{} // local name -> package path
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if _, ok := envFuncs[p]; !ok {
				continue
			}
			name := p
			if imp.Name != nil {
				name = imp.Name.Name
			}
			names[name] = p
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		for _, decl := range f.Decls {
			fn := "(package level)"
			if fd, ok := decl.(*ast.FuncDecl); ok {
				fn = fd.Name.Name
			}
			ast.Inspect(decl, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				id, ok := sel.X.(*ast.Ident)
				if !ok {
					return true
				}
				if p, ok := names[id.Name]; ok && slices.Contains(envFuncs[p], sel.Sel.Name) {
					out = append(out, envCall{rel, fn, p + "." + sel.Sel.Name, fset.Position(sel.Pos()).Line})
				}
				return true
			})
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

// config is the one place that reads the environment, and inside config
// FromEnv is the one function that does (everything else goes through a
// Lookup, so TestEveryVariableReadIsDocumented sees every read).
func TestNoEnvironmentReadsOutsideConfig(t *testing.T) {
	calls := envCalls(t, "..")
	require.NotEmpty(t, calls, "the walk finds config's own read")
	for _, c := range calls {
		where := c.file + ":" + strconv.Itoa(c.line) + ": " + c.call + " in " + c.fn
		switch {
		case strings.HasPrefix(c.file, "config/"):
			assert.Equal(t, "FromEnv", c.fn, "%s: config reads the environment in FromEnv only", where)
			assert.Equal(t, "os.LookupEnv", c.call, where)
		case slices.ContainsFunc(envAllowed, func(p string) bool { return strings.HasPrefix(c.file, p) }):
		default:
			t.Errorf("%s: read the setting in config (a Vars entry and a Config field) and pass it down", where)
		}
	}
}

// sdkVars are documented in Vars but read by the Temporal SDK's envconfig,
// or by the OpenTelemetry OTLP exporter (its headers, timeout and TLS
// settings; the endpoint is config's), not by Read.
var sdkVars = []string{"TEMPORAL_ADDRESS", "TEMPORAL_API_KEY", "TEMPORAL_TLS", "TEMPORAL_TLS_*", "TEMPORAL_PROFILE", "TEMPORAL_CONFIG_FILE", "OTEL_EXPORTER_OTLP_*"}

// Every variable Read asks for is in Vars, and every entry of Vars is read
// (by Read, or by the SDK's envconfig).
func TestEveryVariableReadIsDocumented(t *testing.T) {
	documented := map[string]bool{}
	for _, v := range Vars {
		assert.False(t, documented[v.Name], "%s is listed twice", v.Name)
		documented[v.Name] = true
		assert.NotEmpty(t, v.Default, v.Name)
		assert.NotEmpty(t, v.Help, v.Name)
	}
	asked := map[string]bool{}
	record := func(set map[string]string) Lookup {
		return func(name string) (string, bool) {
			asked[name] = true
			v, ok := set[name]
			return v, ok
		}
	}
	// Unset, then every variable set (some are read only when another is,
	// JIRA_* after JIRA_URL), then set to values that parse.
	Read(record(nil))
	all := map[string]string{}
	for name := range asked {
		all[name] = "x"
	}
	for _, v := range Vars {
		all[v.Name] = "x"
	}
	Read(record(all))
	Read(record(map[string]string{EnvJiraURL: "https://jira.example", EnvSlackPoll: "1s", EnvDistinctSigners: "*"}))
	for name := range asked {
		assert.True(t, documented[name], "%s is read by config but not in Vars (so not in --help or the README)", name)
	}
	for _, v := range Vars {
		if slices.Contains(sdkVars, v.Name) {
			assert.False(t, asked[v.Name], "%s is read by config: drop it from sdkVars", v.Name)
			continue
		}
		assert.True(t, asked[v.Name], "%s is in Vars but nothing reads it", v.Name)
	}

	// And every Env* constant of the package names a documented variable.
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	require.NoError(t, err)
	consts := 0
	for _, f := range pkgs["config"].Files {
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if !strings.HasPrefix(name.Name, "Env") || i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					v, _ := strconv.Unquote(lit.Value)
					consts++
					assert.True(t, documented[v], "%s = %q is not in Vars", name.Name, v)
				}
			}
		}
	}
	assert.Greater(t, consts, 30, "the Env constants were found")
}

func TestHelpAndReadmeTableListEveryVariable(t *testing.T) {
	help, table := EnvHelp(), MarkdownTable()
	for _, v := range Vars {
		assert.Contains(t, help, v.Name)
		assert.Contains(t, help, v.Default)
		assert.Contains(t, table, "| `"+v.Name+"` |")
	}
	assert.Contains(t, table, "| `GAMEDAY_KUBE` | `auto` |", "a value default is code")
	assert.Contains(t, table, "| `GAMEDAY_ROLES` | (empty: no gate can be signed) |", "a described default is prose")
}
