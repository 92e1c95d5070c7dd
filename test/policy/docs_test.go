package policy

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The lists in README.md, ARCHITECTURE.md and the Makefile that name
// things in the code are checked against the code here, so that a list
// out of date fails the build. Each check reads the document as text, so
// the tests below can also show that it notices a line gone missing.

func readDoc(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// section returns the lines of doc from the line that starts with start
// up to (not including) the next line that starts with any of ends.
func section(doc, start string, ends ...string) (string, error) {
	lines := strings.Split(doc, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, start) {
			continue
		}
		for j := i + 1; j < len(lines); j++ {
			for _, e := range ends {
				if strings.HasPrefix(lines[j], e) {
					return strings.Join(lines[i:j], "\n"), nil
				}
			}
		}
		return strings.Join(lines[i:], "\n"), nil
	}
	return "", fmt.Errorf("no line starting with %q", start)
}

// compare reports the names in one list but not the other.
func compare(docName string, doc []string, codeName string, code []string) []string {
	var errs []string
	for _, d := range doc {
		if !slices.Contains(code, d) {
			errs = append(errs, fmt.Sprintf("%s lists %s, which %s does not have", docName, d, codeName))
		}
	}
	for _, c := range code {
		if !slices.Contains(doc, c) {
			errs = append(errs, fmt.Sprintf("%s has %s, which %s does not list", codeName, c, docName))
		}
	}
	for i, d := range doc {
		if slices.Contains(doc[:i], d) {
			errs = append(errs, fmt.Sprintf("%s lists %s twice", docName, d))
		}
	}
	return errs
}

// wantErrors fails the test unless errs (a check's result on a document
// made stale as what says) are one error per name, in order, each holding
// its name.
func wantErrors(t *testing.T, what string, errs []string, names ...string) {
	t.Helper()
	ok := len(errs) == len(names)
	for i := 0; ok && i < len(names); i++ {
		ok = strings.Contains(errs[i], names[i])
	}
	if !ok {
		t.Errorf("%s: errors %q, want one naming each of %q", what, errs, names)
	}
}

func listCmd(t *testing.T, args ...string) *exec.Cmd {
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = root(t)
	return cmd
}

var backticked = regexp.MustCompile("`([^`]+)`")

// --- ARCHITECTURE.md: Packages ---

// architecturePackages returns the packages of the table in the Packages
// section: the backticked paths of each row's first cell.
func architecturePackages(doc string) ([]string, error) {
	sec, err := section(doc, "## Packages", "## ")
	if err != nil {
		return nil, err
	}
	var pkgs []string
	for _, l := range strings.Split(sec, "\n") {
		cells := strings.Split(l, "|")
		if !strings.HasPrefix(l, "|") || len(cells) < 3 {
			continue
		}
		for _, m := range backticked.FindAllStringSubmatch(cells[1], -1) {
			pkgs = append(pkgs, m[1])
		}
	}
	return pkgs, nil
}

// modulePackages returns every package of the module, relative to it.
func modulePackages(t *testing.T) []string {
	var out []string
	for _, p := range listPackages(t, "./...") {
		out = append(out, strings.TrimPrefix(p.ImportPath, module+"/"))
	}
	return out
}

func checkArchitecturePackages(doc string, pkgs []string) []string {
	listed, err := architecturePackages(doc)
	if err != nil {
		return []string{"ARCHITECTURE.md: " + err.Error()}
	}
	return compare("ARCHITECTURE.md's Packages table", listed, "go list ./...", pkgs)
}

func TestArchitecturePackages(t *testing.T) {
	doc, pkgs := readDoc(t, "ARCHITECTURE.md"), modulePackages(t)
	for _, e := range checkArchitecturePackages(doc, pkgs) {
		t.Error(e)
	}
	// Without the row of internal/zone, the check fails naming it.
	stale := strings.Replace(doc, "| `internal/zone` |", "| |", 1)
	wantErrors(t, "a missing row", checkArchitecturePackages(stale, pkgs), "internal/zone,")
}

// --- ARCHITECTURE.md: the store's key layout ---

// architectureKeyPrefixes returns the first path element (with its "/") of
// each line of the key layout block in "The store and its keys".
func architectureKeyPrefixes(doc string) ([]string, error) {
	sec, err := section(doc, "## The store and its keys", "## ")
	if err != nil {
		return nil, err
	}
	_, after, ok := strings.Cut(sec, "`internal/schema` owns the key layout")
	if !ok {
		return nil, fmt.Errorf("the store section no longer introduces the key layout")
	}
	_, after, ok1 := strings.Cut(after, "```text\n")
	block, _, ok2 := strings.Cut(after, "```")
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("no ```text block after the key layout's introduction")
	}
	var prefixes []string
	for _, l := range strings.Split(strings.TrimSpace(block), "\n") {
		p, _, ok := strings.Cut(l, "/")
		if !ok {
			return nil, fmt.Errorf("key layout line %q has no prefix", l)
		}
		prefixes = append(prefixes, p+"/")
	}
	return prefixes, nil
}

// codeKeyPrefixes returns the values of the string constants named
// Prefix... in internal/schema: every key the store holds starts with
// one of them.
func codeKeyPrefixes(t *testing.T) []string {
	dir := filepath.Join(root(t), "internal", "schema")
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var prefixes []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range af.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if !strings.HasPrefix(n.Name, "Prefix") || i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						t.Errorf("%s: constant %s is not a string literal", f, n.Name)
						continue
					}
					v, _ := strconv.Unquote(lit.Value)
					prefixes = append(prefixes, v)
				}
			}
		}
	}
	if len(prefixes) == 0 {
		t.Fatal("no Prefix... constants in internal/schema")
	}
	return prefixes
}

func checkKeyPrefixes(doc string, code []string) []string {
	listed, err := architectureKeyPrefixes(doc)
	if err != nil {
		return []string{"ARCHITECTURE.md: " + err.Error()}
	}
	return compare("ARCHITECTURE.md's key layout", listed, "internal/schema's Prefix constants", code)
}

func TestArchitectureKeyLayout(t *testing.T) {
	doc, code := readDoc(t, "ARCHITECTURE.md"), codeKeyPrefixes(t)
	for _, e := range checkKeyPrefixes(doc, code) {
		t.Error(e)
	}
	stale := regexp.MustCompile(`(?m)^tsig/.*\n`).ReplaceAllString(doc, "")
	wantErrors(t, "a missing key line", checkKeyPrefixes(stale, code), "tsig/")
}

// --- README.md and the Makefile: fuzz targets ---

// readmeFuzzTargets returns the "package.FuzzName" entries listed under
// `make fuzz` in README.md's Development section.
func readmeFuzzTargets(doc string) ([]string, error) {
	sec, err := section(doc, "- `make fuzz`", "- ", "#")
	if err != nil {
		return nil, err
	}
	re := regexp.MustCompile("(?m)^  - `(Fuzz\\w+)` \\(`([^`]+)`\\)")
	var out []string
	for _, m := range re.FindAllStringSubmatch(sec, -1) {
		out = append(out, m[2]+"."+m[1])
	}
	return out, nil
}

// makefileFuzzTargets returns the targets the Makefile's fuzz rule runs.
func makefileFuzzTargets(makefile string) []string {
	re := regexp.MustCompile(`(?m)^\t.*-fuzz '\^(Fuzz\w+)\$\$' .*\./(\S+)\s*$`)
	var out []string
	for _, m := range re.FindAllStringSubmatch(makefile, -1) {
		out = append(out, m[2]+"."+m[1])
	}
	return out
}

// codeFuzzTargets returns every func FuzzXxx(*testing.F) in the module's
// test files.
func codeFuzzTargets(t *testing.T) []string {
	var out []string
	for _, p := range listPackages(t, "./...") {
		files, err := filepath.Glob(filepath.Join(p.Dir, "*_test.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			af, err := parser.ParseFile(token.NewFileSet(), f, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range af.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if ok && fd.Recv == nil && strings.HasPrefix(fd.Name.Name, "Fuzz") {
					out = append(out, strings.TrimPrefix(p.ImportPath, module+"/")+"."+fd.Name.Name)
				}
			}
		}
	}
	return out
}

func checkFuzzTargets(readme, makefile string, code []string) []string {
	listed, err := readmeFuzzTargets(readme)
	if err != nil {
		return []string{"README.md: " + err.Error()}
	}
	return append(compare("README.md's make fuzz list", listed, "the tests' Fuzz functions", code),
		compare("the Makefile's fuzz rule", makefileFuzzTargets(makefile), "the tests' Fuzz functions", code)...)
}

func TestFuzzTargets(t *testing.T) {
	readme, makefile, code := readDoc(t, "README.md"), readDoc(t, "Makefile"), codeFuzzTargets(t)
	for _, e := range checkFuzzTargets(readme, makefile, code) {
		t.Error(e)
	}
	stale := regexp.MustCompile("(?m)^  - `FuzzServe` .*\n").ReplaceAllString(readme, "")
	wantErrors(t, "a target missing from README.md", checkFuzzTargets(stale, makefile, code), "internal/xfr.FuzzServe")
	stale = regexp.MustCompile(`(?m)^\t.*FuzzServe.*\n`).ReplaceAllString(makefile, "")
	wantErrors(t, "a target missing from the Makefile", checkFuzzTargets(readme, stale, code), "internal/xfr.FuzzServe")
}

// --- README.md: the packages that only hold tests ---

// readmeTestPackages returns the packages listed as testing "from the
// outside" in README.md's Development section.
func readmeTestPackages(doc string) ([]string, error) {
	sec, err := section(doc, "- Tests live beside the code", "- ", "#")
	if err != nil {
		return nil, err
	}
	re := regexp.MustCompile("(?m)^  - `([^`]+)` —")
	var out []string
	for _, m := range re.FindAllStringSubmatch(sec, -1) {
		out = append(out, m[1])
	}
	return out, nil
}

// testOnlyPackages returns the module's packages that hold tests and no
// other code.
func testOnlyPackages(t *testing.T) []string {
	cmd := listCmd(t, "-f", "{{.ImportPath}} {{len .GoFiles}} {{len .TestGoFiles}} {{len .XTestGoFiles}}", "./...")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var path string
		var goFiles, tests, xtests int
		if _, err := fmt.Sscan(l, &path, &goFiles, &tests, &xtests); err != nil {
			t.Fatalf("go list line %q: %v", l, err)
		}
		if goFiles == 0 && tests+xtests > 0 {
			pkgs = append(pkgs, strings.TrimPrefix(path, module+"/"))
		}
	}
	return pkgs
}

func checkTestPackages(doc string, code []string) []string {
	listed, err := readmeTestPackages(doc)
	if err != nil {
		return []string{"README.md: " + err.Error()}
	}
	return compare("README.md's list of test packages", listed, "the packages holding only tests", code)
}

func TestTestPackages(t *testing.T) {
	doc, code := readDoc(t, "README.md"), testOnlyPackages(t)
	for _, e := range checkTestPackages(doc, code) {
		t.Error(e)
	}
	stale := strings.Replace(doc, "  - `test/policy` —", "  - test/policy —", 1)
	wantErrors(t, "a package missing from the list", checkTestPackages(stale, code), "test/policy")
}

// --- README.md and the Makefile: the tools the tests drive ---

// readmeTestTools returns the tools and the Debian packages of the table
// under `make test` in README.md's Development section.
func readmeTestTools(doc string) (tools, packages []string, err error) {
	sec, err := section(doc, "- `make test`", "- ", "#")
	if err != nil {
		return nil, nil, err
	}
	for _, l := range strings.Split(sec, "\n") {
		cells := strings.Split(strings.TrimSpace(l), "|")
		if len(cells) != 4 || strings.Contains(cells[1], "---") || strings.TrimSpace(cells[1]) == "tools" {
			continue
		}
		for _, m := range backticked.FindAllStringSubmatch(cells[1], -1) {
			tools = append(tools, m[1])
		}
		for _, m := range backticked.FindAllStringSubmatch(cells[2], -1) {
			packages = append(packages, m[1])
		}
	}
	return tools, packages, nil
}

// makeList returns the words of the Makefile variable name.
func makeList(makefile, name string) []string {
	m := regexp.MustCompile(`(?m)^` + name + `\s*:?=(.*)$`).FindStringSubmatch(makefile)
	if m == nil {
		return nil
	}
	return strings.Fields(m[1])
}

// codeTestTools returns the tools the module's tests ask for with
// testutil.Tool(t, "name").
func codeTestTools(t *testing.T) []string {
	re := regexp.MustCompile(`testutil\.Tool\(\w+, "([^"]+)"\)`)
	var out []string
	top := root(t)
	err := filepath.WalkDir(top, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") && path != top {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "//") {
				continue
			}
			for _, m := range re.FindAllStringSubmatch(l, -1) {
				if !slices.Contains(out, m[1]) {
					out = append(out, m[1])
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func checkTestTools(readme, makefile string, code []string) []string {
	tools, packages, err := readmeTestTools(readme)
	if err != nil {
		return []string{"README.md: " + err.Error()}
	}
	errs := compare("README.md's test tools", tools, "the tests (testutil.Tool)", code)
	errs = append(errs, compare("the Makefile's TEST_TOOLS", makeList(makefile, "TEST_TOOLS"), "the tests (testutil.Tool)", code)...)
	return append(errs, compare("README.md's Debian packages for the tests", packages, "the Makefile's TEST_PACKAGES", makeList(makefile, "TEST_PACKAGES"))...)
}

func TestTestTools(t *testing.T) {
	readme, makefile, code := readDoc(t, "README.md"), readDoc(t, "Makefile"), codeTestTools(t)
	for _, e := range checkTestTools(readme, makefile, code) {
		t.Error(e)
	}
	stale := strings.Replace(readme, "| `knotd` | `knot` |", "", 1)
	wantErrors(t, "a tool missing from README.md", checkTestTools(stale, makefile, code), "knotd", "knot,")
	stale = strings.Replace(makefile, " knotd ", " ", 1)
	wantErrors(t, "a tool missing from the Makefile", checkTestTools(readme, stale, code), "knotd")
}
