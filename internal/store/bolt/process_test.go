//go:build unix

package bolt

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/store"
)

// Helper-process modes, selected by the environment of a re-executed test
// binary.
const (
	helperEnv     = "STRATUS_BOLT_HELPER"
	helperPathEnv = "STRATUS_BOLT_HELPER_PATH"
)

// runHelper re-executes the test binary in the given helper mode.
func runHelper(t *testing.T, mode, path string) (string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, helperPathEnv+"="+path)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestHelperProcess is not a real test: it is the body of the helper
// processes started by runHelper.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(helperPathEnv)
	switch os.Getenv(helperEnv) {
	case "":
		t.Skip("helper process only")
	case "open":
		s, err := Open(path, Options{Timeout: 200 * time.Millisecond})
		if err != nil {
			os.Stdout.WriteString("OPEN ERROR: " + err.Error() + "\n")
			os.Exit(3)
		}
		_ = s.Close()
		os.Exit(0)
	case "crash":
		s, err := Open(path, Options{})
		if err != nil {
			os.Stdout.WriteString("OPEN ERROR: " + err.Error() + "\n")
			os.Exit(3)
		}
		for _, kv := range [][2]string{{"a", "1"}, {"b", "2"}, {"a", "3"}} {
			if _, err := s.Update(context.Background(), func(tx store.Tx) error {
				return tx.Put(kv[0], []byte(kv[1]))
			}); err != nil {
				os.Stdout.WriteString("UPDATE ERROR: " + err.Error() + "\n")
				os.Exit(3)
			}
		}
		// Die without Close, as in a power cut or kill -9.
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		time.Sleep(time.Minute)
		os.Exit(4)
	default:
		t.Fatalf("unknown helper mode %q", os.Getenv(helperEnv))
	}
}

func TestOpenLockedByOtherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stratus.db")
	s := openTest(t, path, Options{})
	out, err := runHelper(t, "open", path)
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 3 {
		t.Fatalf("helper Open while the file is held: err %v, output %q; want exit status 3", err, out)
	}
	want := "store/bolt: open " + path + ": another process holds the file lock"
	if !strings.Contains(out, want) {
		t.Errorf("helper output %q does not contain %q", out, want)
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if out, err := runHelper(t, "open", path); err != nil {
		t.Errorf("helper Open after Close: %v, output %q", err, out)
	}
}

func TestCrashKeepsCommittedData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stratus.db")
	out, err := runHelper(t, "crash", path)
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		t.Fatalf("crash helper: err %v, output %q; want it killed", err, out)
	}
	if ws, ok := exitErr.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("crash helper ended with %v, output %q; want SIGKILL", err, out)
	}

	s := openClosed(t, path, Options{})
	if rev, err := s.Revision(context.Background()); err != nil || rev != 3 {
		t.Errorf("Revision after crash = %d, %v; want 3", rev, err)
	}
	err = s.View(context.Background(), func(tx store.ReadTx) error {
		for k, want := range map[string]string{"a": "3", "b": "2"} {
			v, ok, err := tx.Get(k)
			if err != nil || !ok || string(v) != want {
				t.Errorf("Get(%q) after crash = %q, %v, %v; want %q", k, v, ok, err, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rev := putKV(t, s, "c", "1"); rev != 4 {
		t.Errorf("first revision after crash = %d, want 4", rev)
	}
}
