package server

import (
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratusdns/stratus/internal/config"
	"github.com/stratusdns/stratus/internal/testutil"
)

func mode(t *testing.T, p string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// TestDataDirTightened: a data directory, store file and admin token file
// that group or others may read are made private at start, with a log
// line for each; private ones are left as they are.
func TestDataDirTightened(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o775)
	db, token := filepath.Join(dir, StoreFile), filepath.Join(dir, AdminTokenFile)
	os.WriteFile(db, nil, 0o600)
	os.Chmod(db, 0o640)
	os.WriteFile(token, []byte("x\n"), 0o600)
	os.Chmod(token, 0o604)
	logs := &testutil.LogBuffer{}
	if err := mkdirData(dir, slog.New(slog.NewTextHandler(logs, nil))); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]fs.FileMode{dir: 0o700, db: 0o600, token: 0o600} {
		if got := mode(t, p); got != want {
			t.Errorf("%s: mode %04o, want %04o", p, got, want)
		}
	}
	for _, want := range []string{"path=" + dir + " mode=0775 now=0700", "path=" + db + " mode=0640 now=0600", "path=" + token + " mode=0604 now=0600"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("no line with %q:\n%s", want, logs)
		}
	}
	before := logs.String()
	if err := mkdirData(dir, slog.New(slog.NewTextHandler(logs, nil))); err != nil || logs.String() != before {
		t.Errorf("private already: %v\n%s", err, logs.String()[len(before):])
	}
}

// TestDataDirOtherOwner: a loose data directory or file that another user
// owns is refused, naming the path, the owner and the fix, and left as it
// is.
func TestDataDirOtherOwner(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o700)
	token := filepath.Join(dir, AdminTokenFile)
	os.WriteFile(token, []byte("x\n"), 0o600)
	os.Chmod(token, 0o644)
	ownerOf = func(fs.FileInfo) (int, int, bool) { return 4242, 1000, true }
	t.Cleanup(func() { ownerOf = fileOwner })
	err := mkdirData(dir, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), token+" has mode 0644") || !strings.Contains(err.Error(), "belongs to user 4242") || !strings.Contains(err.Error(), "chmod 0600") {
		t.Fatalf("err = %v", err)
	}
	if got := mode(t, token); got != 0o644 {
		t.Errorf("mode changed to %04o", got)
	}
	// And the node does not start on it.
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.DNS.Listen = []string{"127.0.0.1:0"}
	cfg.API.Listen = "127.0.0.1:0"
	if err := New(cfg, Options{}, slog.New(slog.DiscardHandler)).Start(t.Context()); err == nil || !strings.Contains(err.Error(), "belongs to user 4242") {
		t.Fatalf("start: %v", err)
	}
}
