package querylog

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stratusdns/stratus/internal/dnsserver"
)

// TestShortWrite: a write that stops mid-line (a full disk) must not
// leave half a line that the next write continues: every line of the
// file stays whole JSON, whether the broken part can be cut off again
// (a file) or not (then the next write starts on a new line).
func TestShortWrite(t *testing.T) {
	for _, tc := range []struct {
		name     string
		truncate bool
	}{{"truncated", true}, {"truncate fails", false}} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "queries.log")
			l, err := Open(Options{Output: path})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			fail := false
			writeFile = func(f *os.File, p []byte) (int, error) {
				if fail {
					n, _ := f.Write(p[:len(p)/2+7]) // into the second line
					return n, syscall.ENOSPC
				}
				return f.Write(p)
			}
			truncateFile = func(f *os.File, size int64) error {
				if !tc.truncate {
					return syscall.EIO
				}
				return f.Truncate(size)
			}
			defer func() { writeFile, truncateFile = (*os.File).Write, (*os.File).Truncate }()
			rec := dnsserver.TapRecord{Received: at, Client: netip.MustParseAddrPort("192.0.2.1:1"), Log: true, Qname: wire("a.example."), Qtype: 1, Qclass: 1, Size: 40}
			l.Tap([]dnsserver.TapRecord{rec})
			fail = true
			l.Tap([]dnsserver.TapRecord{rec, rec})
			fail = false
			l.Tap([]dnsserver.TapRecord{rec})
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
			whole := 0
			for _, line := range lines {
				var m map[string]any
				if json.Unmarshal([]byte(line), &m) == nil {
					whole++
				} else if tc.truncate || strings.Count(line, `{"time"`) > 1 {
					t.Errorf("broken line %q", line)
				}
			}
			if last := lines[len(lines)-1]; !json.Valid([]byte(last)) {
				t.Errorf("the line written after the failure is broken: %q", last)
			}
			if tc.truncate && whole != 2 || l.Entries() != 2 || l.Failed() != 2 {
				t.Errorf("%d whole lines, %d entries, %d failed; want 2, 2, 2:\n%s", whole, l.Entries(), l.Failed(), raw)
			}
		})
	}
}
