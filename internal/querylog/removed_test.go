package querylog

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/stratusdns/stratus/internal/dnsserver"
)

// TestFileMovedAside: when the file is moved aside or removed from
// outside (logrotate's default create mode, an operator cleaning up),
// the lines that follow reach a file at the configured path again, or
// are counted as lost; they are not written to an unlinked inode while
// Entries (stratus_querylog_entries_total) counts them as written.
func TestFileMovedAside(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "queries.log")
	l, err := Open(Options{Output: path})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	rec := dnsserver.TapRecord{Received: at, Client: netip.MustParseAddrPort("192.0.2.1:1"), Log: true, Qname: wire("a.example."), Qtype: 1, Qclass: 1, Size: 40}
	l.Tap([]dnsserver.TapRecord{rec})
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	l.Tap([]dnsserver.TapRecord{rec, rec})
	if err := os.Remove(path + ".1"); err != nil {
		t.Fatal(err)
	}
	l.Tap([]dnsserver.TapRecord{rec})
	var lines int
	if _, err := os.Stat(path); err == nil {
		lines = len(readLines(t, path))
	}
	if written := l.Entries() - 1; written != uint64(lines) {
		t.Errorf("after the file was moved aside: %d entries counted, %d lines at %s (%d failed)", written, lines, path, l.Failed())
	}
}
