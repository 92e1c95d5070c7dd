package policy

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// serverInternals are the packages behind the API: the control plane and
// the store. Only the server wires them up; the rest reach them through
// the API or a port of their own.
var serverInternals = []string{module + "/internal/control", module + "/internal/publish", module + "/internal/schema", module + "/internal/store"}

// TestDrillImports: the drill package reaches the control plane through
// its own port (drill.Plane, drill.Keeper), which the API client and the
// server each implement, so it depends on neither the control plane nor
// the store, the API or its client. Its tests, in package drill and in
// drill_test, use fakes of that port.
func TestDrillImports(t *testing.T) {
	forbid := append(slices.Clone(serverInternals), module+"/internal/api", module+"/internal/server", module+"/pkg/client")
	for _, p := range listPackages(t, "./internal/drill") {
		for _, dep := range p.Deps {
			if imports(dep, forbid) {
				t.Errorf("%s depends on %s", p.ImportPath, dep)
			}
		}
		for _, f := range slices.Concat(p.TestGoFiles, p.XTestGoFiles) {
			for _, imp := range fileImports(t, filepath.Join(p.Dir, f)) {
				if imports(imp, forbid) {
					t.Errorf("%s imports %s: drill's tests use fakes of its port", filepath.Join(p.ImportPath, f), imp)
				}
			}
		}
	}
}

// TestCLIImports: the CLI is an API client. No file of cmd/stratus
// imports the control plane or the store; the server's package is for
// serve.go, which runs it, clientconfig.go, which reads where it
// writes its admin token, and store.go, which runs the offline store copy
// with no server running. Tests may run an API in-process.
func TestCLIImports(t *testing.T) {
	allowed := map[string][]string{module + "/internal/server": {"serve.go", "clientconfig.go", "store.go"}}
	for _, p := range listPackages(t, "./cmd/stratus") {
		for _, f := range p.GoFiles {
			for _, imp := range fileImports(t, filepath.Join(p.Dir, f)) {
				if imports(imp, serverInternals) {
					t.Errorf("cmd/stratus/%s imports %s: the CLI goes through the API", f, imp)
				}
				if files, ok := allowed[imp]; ok && !slices.Contains(files, f) {
					t.Errorf("cmd/stratus/%s imports %s: only %s may", f, imp, strings.Join(files, ", "))
				}
			}
		}
	}
}

// imports reports whether path is one of pkgs or below one.
func imports(path string, pkgs []string) bool {
	for _, p := range pkgs {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

// fileImports returns the import paths of one Go file.
func fileImports(t *testing.T, file string) []string {
	t.Helper()
	af, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, is := range af.Imports {
		p, err := strconv.Unquote(is.Path.Value)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}
