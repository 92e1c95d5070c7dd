// Package readme runs the examples of README.md as a test, so the README
// says only what the code does.
//
// Every fenced block tagged sh runs, in the order of the README, in one
// working directory, against a real server started the way the quick start
// starts it (stratus serve --demo, built from this tree) on the README's own
// addresses (127.0.0.1:1053 for DNS, 127.0.0.1:8053 for the API). Those
// fixed ports, and the documentation addresses the examples name
// (192.0.2.x), are safe because the whole test runs in a network namespace
// of its own (unshare --net), which has a loopback interface and nothing
// else: nothing the examples do leaves the namespace, and nothing else on
// the machine can hold its ports.
//
// The rules the README follows:
//
//   - A block tagged sh runs with bash -e -o pipefail: every command must
//     succeed, and a failure names the README line of the command.
//   - A block tagged text right after a run block (blank lines between at
//     most) is that block's standard output. A line "..." stands for any
//     number of lines, and "..." within a line for any text.
//   - A shell block that cannot run here (it runs in the foreground, needs
//     root, runs for minutes) is tagged sh and preceded by the line
//     <!-- not run: REASON -->.
//   - Every fence names its language; shell blocks under any other tag
//     (bash, shell, console, ...) or none are errors.
//   - yaml blocks that are a config file or a drill scenario are parsed as
//     the server parses them.
package readme

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/config"
	"github.com/stratusdns/stratus/internal/drill"
	"github.com/stratusdns/stratus/internal/testutil"
)

// inNamespaceEnv marks the copy of the test that runs inside the network
// namespace; binEnv names the directory holding the stratus binary it uses.
const (
	inNamespaceEnv = "STRATUS_README_NETNS"
	binEnv         = "STRATUS_README_BIN"
)

// The README's own addresses, which its examples use as written.
const (
	apiURL = "http://127.0.0.1:8053"
)

// block is one fenced block of the README.
type block struct {
	line   int    // of the opening fence, 1-based
	lang   string // the first word of the info string
	body   string
	notRun string // the reason given in a <!-- not run: ... --> line before it
	// output is the text block that follows a run block, if any.
	output *block
	// follows is true for a block whose previous block ends right above
	// it (blank lines between at most).
	follows bool
}

var notRunRE = regexp.MustCompile(`^<!--\s*not run:\s*(.*?)\s*-->$`)

// parseBlocks returns the fenced blocks of a Markdown document.
func parseBlocks(doc string) ([]*block, error) {
	var (
		blocks  []*block
		cur     *block
		fence   string
		body    strings.Builder
		lastEnd = 0 // line of the last closing fence
		prev    string
	)
	lines := strings.Split(doc, "\n")
	for i, l := range lines {
		n := i + 1
		if cur != nil {
			if strings.TrimSpace(l) == fence {
				cur.body = body.String()
				blocks = append(blocks, cur)
				cur, lastEnd, prev = nil, n, ""
				continue
			}
			body.WriteString(l)
			body.WriteByte('\n')
			continue
		}
		t := strings.TrimLeft(l, " ")
		if strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") {
			fence = t[:3]
			for len(fence) < len(t) && t[len(fence)] == fence[0] {
				fence += t[:1]
			}
			info := strings.Fields(t[len(fence):])
			cur = &block{line: n}
			if len(info) > 0 {
				cur.lang = info[0]
			}
			if m := notRunRE.FindStringSubmatch(strings.TrimSpace(prev)); m != nil {
				if m[1] == "" {
					return nil, fmt.Errorf("README.md:%d: a not-run mark gives its reason", n-1)
				}
				cur.notRun = m[1]
			}
			// Only blank lines between this fence and the last one?
			cur.follows = lastEnd > 0
			for j := lastEnd; cur.follows && j < n-1; j++ {
				if strings.TrimSpace(lines[j]) != "" {
					cur.follows = false
					break
				}
			}
			body.Reset()
			continue
		}
		if strings.TrimSpace(l) != "" {
			prev = l
		}
	}
	if cur != nil {
		return nil, fmt.Errorf("README.md:%d: fence not closed", cur.line)
	}
	return blocks, nil
}

// shellTags are tags under which a block reads as shell; only sh runs.
var shellTags = map[string]bool{"": true, "bash": true, "shell": true, "console": true, "zsh": true, "shell-session": true, "shellsession": true, "sh-session": true}

// runnable checks the tags and marks of the blocks and returns those to
// run, each with its expected output if the README shows one.
func runnable(blocks []*block) ([]*block, []error) {
	var run []*block
	var errs []error
	for i, b := range blocks {
		switch {
		case b.lang == "sh":
			if b.notRun != "" {
				continue
			}
			run = append(run, b)
			if i+1 < len(blocks) && blocks[i+1].lang == "text" && blocks[i+1].follows {
				b.output = blocks[i+1]
			}
		case b.lang == "":
			errs = append(errs, fmt.Errorf("README.md:%d: the block names no language: tag it sh to run it in this test, or yaml, text, ...", b.line))
		case shellTags[b.lang]:
			errs = append(errs, fmt.Errorf("README.md:%d: shell block tagged %q: tag it sh to run it in this test, or precede it with <!-- not run: REASON -->", b.line, b.lang))
		}
		if b.notRun != "" && b.lang != "sh" {
			errs = append(errs, fmt.Errorf("README.md:%d: a not-run mark before a %q block; only sh blocks run", b.line, b.lang))
		}
	}
	return run, errs
}

// matchOutput compares got with the expected output want, in which a line
// "..." stands for any number of lines and "..." within a line for any
// text. Trailing spaces are ignored.
func matchOutput(want, got string) bool {
	if strings.TrimSpace(want) == "" {
		return strings.TrimSpace(got) == ""
	}
	var re strings.Builder
	re.WriteString(`^`)
	for _, l := range strings.Split(strings.TrimRight(want, "\n"), "\n") {
		l = strings.TrimRight(l, " \t")
		if l == "..." {
			re.WriteString(`(?:[^\n]*\n)*?`)
			continue
		}
		parts := strings.Split(l, "...")
		for i, p := range parts {
			if i > 0 {
				re.WriteString(`[^\n]*`)
			}
			re.WriteString(regexp.QuoteMeta(p))
		}
		re.WriteString(`[ \t]*\n`)
	}
	re.WriteString(`$`)
	return regexp.MustCompile(re.String()).MatchString(strings.TrimRight(got, "\n") + "\n")
}

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(moduleRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// TestReadmeBlocks checks the README's conventions without running
// anything: every block is tagged, shell blocks are run or marked, and
// the yaml examples parse.
func TestReadmeBlocks(t *testing.T) {
	blocks, err := parseBlocks(readme(t))
	if err != nil {
		t.Fatal(err)
	}
	run, errs := runnable(blocks)
	for _, err := range errs {
		t.Error(err)
	}
	if len(run) == 0 {
		t.Error("README.md has no sh block to run")
	}
	configs, scenarios := 0, 0
	for _, b := range blocks {
		if b.lang != "yaml" {
			continue
		}
		name := fmt.Sprintf("README.md:%d", b.line)
		switch {
		case strings.HasPrefix(b.body, "data_dir:"):
			configs++
			if _, err := config.Parse(name, []byte(b.body)); err != nil {
				t.Errorf("the config example does not parse: %v", err)
			}
		case strings.Contains(b.body, "\nsteps:"):
			scenarios++
			if _, err := drill.ParseScenario(name, []byte(b.body)); err != nil {
				t.Errorf("the drill scenario example does not parse: %v", err)
			}
		}
	}
	if configs != 1 || scenarios != 1 {
		t.Errorf("found %d config examples (a yaml block starting with data_dir:) and %d drill scenarios (with steps:), want one of each", configs, scenarios)
	}
}

// TestParseBlocks shows the rules on a small document.
func TestParseBlocks(t *testing.T) {
	doc := "# x\n\n```sh\necho a\n```\n\n```text\na\n```\n\nprose\n\n```text\nnot output\n```\n\n" +
		"<!-- not run: runs forever -->\n```sh\nyes\n```\n\n```console\n$ ls\n```\n\n```\nuntagged\n```\n"
	blocks, err := parseBlocks(doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 6 {
		t.Fatalf("%d blocks, want 6", len(blocks))
	}
	run, errs := runnable(blocks)
	if len(run) != 1 || run[0].line != 3 || run[0].body != "echo a\n" {
		t.Fatalf("run = %+v, want the block at line 3", run)
	}
	if run[0].output == nil || run[0].output.body != "a\n" {
		t.Errorf("output of the run block = %+v, want the text block after it", run[0].output)
	}
	if blocks[2].follows {
		t.Error("a text block after prose is taken for output")
	}
	if blocks[3].notRun != "runs forever" {
		t.Errorf("not-run reason = %q", blocks[3].notRun)
	}
	if len(errs) != 2 || !strings.Contains(errs[0].Error(), "README.md:22") || !strings.Contains(errs[1].Error(), "README.md:26") {
		t.Errorf("errors = %v, want the console block (line 22) and the untagged one (line 26)", errs)
	}
	if _, err := parseBlocks("<!-- not run: -->\n```sh\nx\n```\n"); err == nil {
		t.Error("a not-run mark without a reason is accepted")
	}
	if _, err := parseBlocks("```sh\nx\n"); err == nil {
		t.Error("an unclosed fence is accepted")
	}
}

func TestMatchOutput(t *testing.T) {
	for _, c := range []struct {
		want, got string
		ok        bool
	}{
		{"a\nb\n", "a\nb\n", true},
		{"a\nb\n", "a\nb", true},
		{"a\nb\n", "a\nc\n", false},
		{"a\n", "a\nb\n", false},
		{"a\n...\nd\n", "a\nb\nc\nd\n", true},
		{"a\n...\nd\n", "a\nd\n", true},
		{"a\n...\nd\n", "a\nb\n", false},
		{"x ... z\n", "x 2026-01-02T03:04:05Z z\n", true},
		{"x ... z\n", "x y\nz\n", false},
		{"a.b\n", "axb\n", false},
		{"a  \n", "a\n", true},
		{"", "", true},
		{"", "x\n", false},
	} {
		if got := matchOutput(c.want, c.got); got != c.ok {
			t.Errorf("matchOutput(%q, %q) = %v, want %v", c.want, c.got, got, c.ok)
		}
	}
}

// TestReadme runs the README's sh blocks. The test builds stratus and then
// runs itself again inside a new network namespace (as root in a user
// namespace of its own), where it does the work: see runInNamespace.
func TestReadme(t *testing.T) {
	if os.Getenv(inNamespaceEnv) == "1" {
		runInNamespace(t)
		return
	}
	unshare := testutil.Tool(t, "unshare")
	testutil.Tool(t, "ip")
	// The programs the README's examples run, besides stratus and bash.
	testutil.Tool(t, "dig")
	testutil.Tool(t, "curl")
	testutil.Tool(t, "nsupdate")
	bin := filepath.Join(t.TempDir(), "bin")
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "stratus"), "./cmd/stratus")
	build.Dir = moduleRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// Is a network namespace possible here at all?
	if out, err := exec.Command(unshare, "--net", "--map-root-user", "true").CombinedOutput(); err != nil {
		msg := fmt.Sprintf("cannot make a network namespace (unshare --net --map-root-user: %v: %s)", err, bytes.TrimSpace(out))
		if os.Getenv(testutil.RequireToolsEnv) == "1" {
			t.Fatal(msg)
		}
		t.Skip("skipping: " + msg)
	}
	args := []string{"--net", "--map-root-user", "--", os.Args[0], "-test.run=^TestReadme$", "-test.v", "-test.count=1"}
	if d, ok := t.Deadline(); ok {
		args = append(args, "-test.timeout="+time.Until(d).Round(time.Second).String())
	}
	cmd := exec.Command(unshare, args...)
	cmd.Env = append(os.Environ(), inNamespaceEnv+"=1", binEnv+"="+bin)
	out, err := cmd.CombinedOutput()
	t.Logf("in the namespace:\n%s", out)
	if err != nil {
		t.Fatalf("the README test failed in its namespace: %v", err)
	}
}

// runInNamespace starts the server and runs the README's blocks; it runs
// in the test's own network namespace.
func runInNamespace(t *testing.T) {
	if out, err := exec.Command(testutil.Tool(t, "ip"), "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("ip link set lo up: %v: %s", err, out)
	}
	blocks, err := parseBlocks(readme(t))
	if err != nil {
		t.Fatal(err)
	}
	run, errs := runnable(blocks)
	if len(errs) > 0 {
		t.Fatalf("README.md breaks the rules of this test (see TestReadmeBlocks): %v", errs)
	}

	dir := t.TempDir()
	env := []string{
		"PATH=" + os.Getenv(binEnv) + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + dir, // no ~/.config/stratus of the user running the test
		"LANG=C",
	}
	// The quick start's command.
	logs := &bytes.Buffer{}
	srv := exec.Command(filepath.Join(os.Getenv(binEnv), "stratus"), "serve", "--demo")
	srv.Dir, srv.Env, srv.Stdout, srv.Stderr = dir, env, logs, logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	stopped := false
	defer func() {
		if !stopped {
			srv.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	}()
	waitReady(t, dir, exited)

	// A failing block does not stop the others: later ones may fail for
	// its sake, but each failure names its own line.
	for _, b := range run {
		runBlock(t, b, dir, env)
	}

	// "stratus serve stops gracefully on SIGTERM".
	srv.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			t.Errorf("stratus serve after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("stratus serve did not stop within 30s of SIGTERM")
	}
}

// waitReady waits until the server answers the API with its admin token.
func waitReady(t *testing.T, dir string, exited chan error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			t.Fatalf("stratus serve --demo exited: %v", err)
		default:
		}
		if tok, err := os.ReadFile(filepath.Join(dir, "stratus-data", "admin.token")); err == nil {
			req, _ := http.NewRequest("GET", apiURL+"/v1/zones/demo.stratus.test", nil)
			req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the server did not serve the demo zone within 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runBlock runs one sh block, failing the test if it fails or its output
// differs from the README's.
func runBlock(t *testing.T, b *block, dir string, env []string) {
	t.Helper()
	// The ERR trap names the README line of a failing command: the body
	// starts on the line after the fence, and on the script's third line.
	script := fmt.Sprintf("set -eo pipefail\ntrap 'echo \"README.md:$((LINENO + %d)): exit status $?: $BASH_COMMAND\" >&2' ERR\n%s",
		b.line-2, b.body)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Dir, cmd.Env = dir, env
	// Its own process group, so that nothing it starts outlives it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if err != nil {
		t.Errorf("README.md:%d: the block failed (%v)\nstderr:\n%s\nstdout:\n%s", b.line, err, stderr.String(), stdout.String())
	} else if b.output != nil && !matchOutput(b.output.body, stdout.String()) {
		t.Errorf("README.md:%d: the output differs from README.md:%d\nwant:\n%s\ngot:\n%s", b.line, b.output.line, b.output.body, stdout.String())
	} else {
		t.Logf("README.md:%d: ok", b.line)
	}
}
