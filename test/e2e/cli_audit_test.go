package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/store/bolt"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// TestCLIAudit: changes made through the CLI are listed by stratus audit
// list (table, filters, JSON lines) and verify; after the store file is
// edited behind the server's back — an entry altered, another removed —
// audit verify names the stream, the entries and what is wrong, and
// exits 8. The audit key file is made at first start, mode 0600.
func TestCLIAudit(t *testing.T) {
	dataDir := t.TempDir()
	s := startServer(t, dataDir)
	fi, err := os.Stat(filepath.Join(dataDir, "audit.key"))
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != 32 {
		t.Fatalf("audit key file: %v %v", fi, err)
	}
	s.mustCLI("zone", "create", "example.com", "--ns", "ns1.example.com.") // zone:example.com. 1
	s.mustCLI("record", "add", "example.com", "www", "A", "192.0.2.1")     // 2
	s.mustCLI("record", "add", "example.com", "www", "A", "192.0.2.2")     // 3
	s.mustCLI("token", "create", "ci", "--scope", "zones:read")

	out := s.mustCLI("audit", "list", "--object", "zone:example.com.")
	rows := lines(out)
	if len(rows) != 4 || !strings.HasPrefix(rows[0], "TIME") || !strings.Contains(rows[1], "zone.create") || !strings.Contains(rows[2], "rrsets.change") ||
		!strings.Contains(rows[2], "token:admin") || !strings.Contains(rows[2], "127.0.0.1:") || !strings.Contains(rows[2], "www.example.com. A") {
		t.Errorf("audit list --object zone:example.com.:\n%s", out)
	}
	out = s.mustCLI("audit", "list", "--since", "1h", "--output", "json")
	var exported []apiv1.AuditEntry
	for _, l := range lines(out) {
		var en apiv1.AuditEntry
		if err := json.Unmarshal([]byte(l), &en); err != nil {
			t.Fatalf("line %q of the export: %v", l, err)
		}
		exported = append(exported, en)
	}
	// The admin token (made at start), the zone's three and the new token.
	if len(exported) != 5 || exported[4].Action != "token.create" || exported[4].Detail == "" {
		t.Errorf("export: %d entries\n%s", len(exported), out)
	}
	if out := s.mustCLI("audit", "list", "--actor", "nobody"); len(lines(out)) != 1 {
		t.Errorf("audit list --actor nobody:\n%s", out)
	}
	if _, errOut, code := s.cli("audit", "list", "--since", "last tuesday"); code != 2 || !strings.Contains(errOut, "--since") {
		t.Errorf("audit list --since 'last tuesday': exit %d %q", code, errOut)
	}
	if out := s.mustCLI("audit", "verify"); !strings.Contains(out, "audit log verified: 5 entries in 3 streams") {
		t.Errorf("audit verify:\n%s", out)
	}

	// Stop the server and edit its store file directly.
	s.stop()
	st, err := bolt.Open(filepath.Join(dataDir, "stratus.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const stream = "zone:example.com."
	_, err = st.Update(t.Context(), func(tx store.Tx) error {
		key := schema.AuditEntryKey(stream, 2)
		v, _, err := tx.Get(key)
		if err != nil {
			return err
		}
		altered := strings.Replace(string(v), "token", "system", 1)
		if altered == string(v) {
			t.Fatalf("entry 2 names no token: %s", v)
		}
		if err := tx.Put(key, []byte(altered)); err != nil {
			return err
		}
		return tx.Delete(schema.AuditEntryKey(stream, 3))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	s = startServer(t, dataDir)
	out, errOut, code := s.cli("audit", "verify")
	if code != 8 || !strings.Contains(errOut, "does not verify: 2 problems in "+stream) {
		t.Errorf("audit verify after tampering: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range [][]string{
		{stream, "2", "audit/" + stream + "/0000000000000002", "the entry's MAC does not match: the entry was altered"},
		{stream, "3", "audit-heads/" + stream, "the head names entry 3, the newest kept is 2: entries 3 to 3 were removed"},
	} {
		found := false
		for _, l := range lines(out) {
			f := strings.Fields(l)
			found = found || len(f) > 3 && f[0] == want[0] && f[1] == want[1] && f[2] == want[2] && strings.Contains(l, want[3])
		}
		if !found {
			t.Errorf("audit verify does not report %q:\n%s", want, out)
		}
	}
}
