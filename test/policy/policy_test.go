// Package policy enforces the project's conventions as tests: every
// package has a doc comment, the DNS query path imports nothing from the
// control plane, the store or the API, the drill package and the CLI
// reach the control plane only through a port or the API, and the lists
// that README.md, ARCHITECTURE.md and the Makefile keep of things in the
// code (packages, store key prefixes, fuzz targets, test packages, the
// tools tests drive) match the code.
package policy

import (
	"encoding/json"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/stratusdns/stratus"

// root returns the repository root.
func root(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

type pkg struct {
	ImportPath   string
	Dir          string
	Deps         []string
	GoFiles      []string
	TestGoFiles  []string
	XTestGoFiles []string
}

func listPackages(t *testing.T, patterns ...string) []pkg {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-json=ImportPath,Dir,Deps,GoFiles,TestGoFiles,XTestGoFiles"}, patterns...)...)
	cmd.Dir = root(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// TestPackageDocs fails for any package without a package comment.
func TestPackageDocs(t *testing.T) {
	for _, p := range listPackages(t, "./...") {
		if len(p.GoFiles) == 0 {
			continue
		}
		documented := false
		for _, f := range p.GoFiles {
			src, err := os.ReadFile(filepath.Join(p.Dir, f))
			if err != nil {
				t.Fatal(err)
			}
			af, err := parser.ParseFile(token.NewFileSet(), f, src, parser.PackageClauseOnly|parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			if af.Doc != nil && strings.TrimSpace(af.Doc.Text()) != "" {
				documented = true
				break
			}
		}
		if !documented {
			t.Errorf("package %s has no package comment", p.ImportPath)
		}
	}
}

// queryPath lists the packages that answer DNS queries. They take the
// protocol's numbers from internal/dnsconst, a leaf of the standard library
// alone (TestConstantsLeaf), and from nowhere else in the module but each
// other, the model and steering.
var queryPath = []string{"./internal/dnsserver", "./internal/dnswire", "./internal/zone"}

// forbidden are packages the query path must never depend on: it reads
// the published snapshot and nothing else.
var forbidden = []string{
	module + "/internal/store",
	module + "/internal/control",
	module + "/internal/publish",
	module + "/internal/schema",
	module + "/internal/api",
	module + "/internal/auth",
	module + "/internal/server",
	module + "/internal/config",
	module + "/pkg/client",
	"github.com/miekg/dns", // packing and unpacking stay off the hot path
	"go.etcd.io/bbolt",
	"net/http",
}

func TestQueryPathImports(t *testing.T) {
	for _, p := range listPackages(t, queryPath...) {
		checkDeps(t, p, forbidden)
	}
	// The steering layer runs on the query path too. It reads service
	// definitions (internal/model, and so miekg/dns for their types), but
	// nothing that probes, stores or serves HTTP.
	steerForbidden := []string{module + "/internal/health", module + "/internal/steerctl"}
	for _, f := range forbidden {
		if f != "github.com/miekg/dns" {
			steerForbidden = append(steerForbidden, f)
		}
	}
	for _, p := range listPackages(t, "./internal/steer", "./internal/geo") {
		checkDeps(t, p, steerForbidden)
	}
}

func checkDeps(t *testing.T, p pkg, forbidden []string) {
	t.Helper()
	for _, dep := range p.Deps {
		for _, f := range forbidden {
			if dep == f || strings.HasPrefix(dep, f+"/") {
				t.Errorf("query-path package %s depends on %s", p.ImportPath, dep)
			}
		}
	}
}

// constants is the leaf package of DNS protocol numbers the query path
// shares with the rest.
const constants = module + "/internal/dnsconst"

// TestConstantsLeaf fails if internal/dnsconst depends on anything beyond
// the standard library, or if a query-path package keeps numbers of its own
// instead of depending on it.
func TestConstantsLeaf(t *testing.T) {
	out, err := listCmd(t, "-deps", "-f", "{{.ImportPath}} {{.Standard}}", "./internal/dnsconst").Output()
	if err != nil {
		t.Fatalf("go list %s: %v", constants, err)
	}
	for _, e := range checkLeaf(constants, string(out)) {
		t.Error(e)
	}
	// A dependency outside the standard library is named.
	bad := string(out) + module + "/internal/model false\ngithub.com/miekg/dns false\n"
	wantErrors(t, "a leaf with module imports", checkLeaf(constants, bad), "internal/model", "miekg/dns")

	for _, p := range listPackages(t, append(queryPath, "./internal/steer")...) {
		if !slices.Contains(p.Deps, constants) {
			t.Errorf("query-path package %s does not take its DNS numbers from %s", p.ImportPath, constants)
		}
	}
}

// checkLeaf reads `go list -deps -f '{{.ImportPath}} {{.Standard}}'` output
// for leaf and names every dependency outside the standard library.
func checkLeaf(leaf, deps string) []string {
	var errs []string
	for _, l := range strings.Split(strings.TrimSpace(deps), "\n") {
		path, std, _ := strings.Cut(l, " ")
		if path != leaf && std != "true" {
			errs = append(errs, fmt.Sprintf("%s must import only the standard library, but depends on %s", leaf, path))
		}
	}
	return errs
}
