package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stratusdns/stratus/pkg/apiv1"
)

// TestCLIJournalNewestFirst: zone journal shows the newest changes first,
// --limit and --before page back (the line after the table says how), and
// CHANGE counts records, not the SOA lines every change carries.
func TestCLIJournalNewestFirst(t *testing.T) {
	s := startServer(t, "")
	s.mustCLI("zone", "create", "example.com", "--ns", "ns1.example.com.")          // 1
	s.mustCLI("record", "add", "example.com", "www", "A", "192.0.2.1")              // 2: +1
	s.mustCLI("record", "set", "example.com", "www", "A", "192.0.2.2")              // 3: -1 +1
	s.mustCLI("record", "add", "example.com", "www", "A", "192.0.2.3", "192.0.2.4") // 4: +2
	s.mustCLI("record", "delete", "example.com", "www", "A", "192.0.2.2")           // 5: -1

	rows := func(out string) (seqs, changes []string) {
		for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 7 || f[0] == "older" || f[0] == "newer" {
				continue
			}
			seqs = append(seqs, f[0])
			changes = append(changes, strings.Join(f[6:], " "))
		}
		return seqs, changes
	}
	out := s.mustCLI("zone", "journal", "example.com", "--limit", "3")
	seqs, changes := rows(out)
	if strings.Join(seqs, ",") != "5,4,3" || strings.Join(changes, ",") != "-1,+2,-1 +1" {
		t.Errorf("journal --limit 3: seqs %v changes %v\n%s", seqs, changes, out)
	}
	if !strings.Contains(out, "older entries: stratus zone journal example.com --before 3") {
		t.Errorf("no way back to the older entries:\n%s", out)
	}
	out = s.mustCLI("zone", "journal", "example.com", "--limit", "3", "--before", "3")
	seqs, changes = rows(out)
	if strings.Join(seqs, ",") != "2,1" || strings.Join(changes, ",") != "+1,whole zone" || strings.Contains(out, "older entries") {
		t.Errorf("journal --before 3: seqs %v changes %v\n%s", seqs, changes, out)
	}
	out = s.mustCLI("zone", "journal", "example.com", "--from", "4")
	if seqs, _ = rows(out); strings.Join(seqs, ",") != "4,5" {
		t.Errorf("journal --from 4: seqs %v\n%s", seqs, out)
	}
	var j apiv1.Journal
	if err := json.Unmarshal([]byte(s.mustCLI("zone", "journal", "example.com", "--limit", "1", "-o", "json")), &j); err != nil || len(j.Entries) != 1 || j.Entries[0].Seq != 5 || !j.More {
		t.Errorf("journal -o json --limit 1: %+v %v", j, err)
	}
	for _, args := range [][]string{{"--from", "1", "--before", "3"}, {"--before", "0"}, {"--limit", "0"}} {
		_, errOut, code := s.cli(append([]string{"zone", "journal", "example.com"}, args...)...)
		if code != 2 || errOut == "" {
			t.Errorf("journal %v: exit %d %q, want a usage error", args, code, errOut)
		}
	}
}
