package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratusdns/stratus/internal/testutil"
)

// TestCLIVersion builds stratus with a plain "go build" in a git checkout
// of this source tree and checks that "stratus version" names the commit;
// then builds it with -ldflags and checks that those values win.
func TestCLIVersion(t *testing.T) {
	git := testutil.Tool(t, "git")
	// A fresh checkout of the tree as it is (a worktree's .git file is not
	// a checkout the go command records).
	files, err := exec.Command(git, "-C", "../..", "ls-files", "-z").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	src := t.TempDir()
	for f := range strings.SplitSeq(strings.TrimSuffix(string(files), "\x00"), "\x00") {
		b, err := os.ReadFile(filepath.Join("../..", f))
		if os.IsNotExist(err) {
			continue // deleted, not yet committed
		} else if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(src, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t",
			"GIT_COMMITTER_EMAIL=t@example.com", "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z", "GIT_AUTHOR_DATE=2026-01-02T03:04:05Z")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run(git, "init", "-q")
	run(git, "add", "-A")
	run(git, "commit", "-q", "-m", "version test")
	rev := run(git, "rev-parse", "HEAD")

	bin := filepath.Join(t.TempDir(), "stratus")
	// -buildvcs=true is the go command's default ("auto") made explicit,
	// over a GOFLAGS that turns it off.
	run("go", "build", "-buildvcs=true", "-o", bin, "./cmd/stratus")
	var v struct {
		Version, Commit string
		CommitTime      string `json:"commit_time"`
		Modified        bool
	}
	out := run(bin, "version", "-o", "json")
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("version -o json: %s: %v", out, err)
	}
	// The go command's pseudo-version names the commit's time and hash.
	if v.Commit != rev || v.CommitTime != "2026-01-02T03:04:05Z" || v.Modified || !strings.HasSuffix(v.Version, "-20260102030405-"+rev[:12]) {
		t.Errorf("version of a go build at %s: %+v", rev, v)
	}
	if out := run(bin, "version"); !strings.Contains(out, rev) || strings.Contains(out, "unknown") || strings.Contains(out, "dev") {
		t.Errorf("version:\n%s", out)
	}

	// Values set with -ldflags win over the recorded ones.
	const pkg = "github.com/stratusdns/stratus/internal/version"
	run("go", "build", "-buildvcs=false", "-o", bin, "-ldflags", "-X "+pkg+".Version=v9.8.7 -X "+pkg+".Commit=0123abcd", "./cmd/stratus")
	if out := run(bin, "version"); !strings.Contains(out, "v9.8.7") || !strings.Contains(out, "0123abcd") {
		t.Errorf("version of an -ldflags build:\n%s", out)
	}
}
