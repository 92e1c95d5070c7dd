package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratusdns/stratus/internal/testutil"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

func TestCLIExitCodes(t *testing.T) {
	s := startServer(t, "")
	s.mustCLI("zone", "create", "example.com", "--ns", "ns1.example.com.")
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"success", []string{"zone", "list"}, 0, ""},
		{"unknown command", []string{"zone", "frobnicate"}, 2, "unknown command"},
		{"unknown flag", []string{"zone", "list", "--colour"}, 2, "unknown flag"},
		{"missing arguments", []string{"record", "add", "example.com", "www"}, 2, "usage: stratus record add"},
		{"bad output format", []string{"zone", "list", "-o", "yaml"}, 2, "output format"},
		{"invalid record data", []string{"record", "add", "example.com", "www", "A", "not-an-ip"}, 2, `invalid A record data "not-an-ip": not an IPv4 address`},
		{"relative name in data", []string{"record", "add", "example.com", "www", "CNAME", "target.example.net"}, 2, "fully qualified"},
		{"zone not found", []string{"zone", "get", "nope.test"}, 3, "zone not found"},
		{"zone of records not found", []string{"record", "list", "nope.test"}, 3, "zone not found"},
		{"rrset not found", []string{"record", "delete", "example.com", "nope", "A"}, 3, "RRset not found"},
		{"delete output format checked", []string{"zone", "delete", "example.com", "-o", "yaml"}, 2, "output format"},
		{"compact without --keep", []string{"zone", "compact-journal", "example.com"}, 2, "--keep"},
		{"zone exists", []string{"zone", "create", "example.com", "--ns", "ns1.example.com."}, 4, "already exists"},
		{"stale if-match", []string{"record", "add", "example.com", "www", "A", "192.0.2.1", "--if-match", "99"}, 4, "not 99"},
		{"bad token", []string{"--token", "stratus_000000000000_x", "zone", "list"}, 5, "invalid bearer token"},
		{"no token file", []string{"--data-dir", "/nonexistent", "zone", "list"}, 5, "no API token"},
		{"server unreachable", []string{"--server", "http://127.0.0.1:1", "zone", "list"}, 6, "cannot reach"},
		{"import syntax error", []string{"zone", "import", "example.com", "testdata/cli-bad.zone"}, 2, "testdata/cli-bad.zone:5"},
		{"import missing file", []string{"zone", "import", "example.com", "testdata/none.zone"}, 2, "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := s.cli(tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
			if tc.msg != "" && !strings.Contains(errOut, tc.msg) {
				t.Errorf("stderr %q does not mention %q", errOut, tc.msg)
			}
		})
	}
	// Nothing above changed the zone.
	var z apiv1.Zone
	if err := json.Unmarshal([]byte(s.mustCLI("zone", "get", "example.com", "-o", "json")), &z); err != nil {
		t.Fatal(err)
	}
	if (z.Serial == nil || *z.Serial != 1) || z.RRsets != 2 {
		t.Errorf("failed commands changed the zone: %+v", z)
	}
}

func TestCLIRecordsAndJSON(t *testing.T) {
	s := startServer(t, "")
	s.mustCLI("zone", "create", "example.com", "--ns", "ns1.example.com.", "--ttl", "120")
	s.mustCLI("record", "add", "example.com", "www", "A", "192.0.2.1", "192.0.2.2", "--ttl", "60")
	s.mustCLI("record", "add", "example.com", "@", "MX", "10 mail.example.com.")
	s.mustCLI("record", "set", "example.com", "www", "A", "192.0.2.3")
	s.mustCLI("record", "delete", "example.com", "@", "MX", "10 mail.example.com.")

	var list apiv1.RRsetList
	if err := json.Unmarshal([]byte(s.mustCLI("record", "list", "example.com", "www", "-o", "json")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.RRsets) != 1 || list.RRsets[0].TTL != 60 || strings.Join(list.RRsets[0].Records, ",") != "192.0.2.3" || list.Serial != 5 {
		t.Errorf("records after add/set/delete: %+v", list)
	}
	table := s.mustCLI("record", "list", "example.com")
	if !strings.Contains(table, "www.example.com.") || strings.Contains(table, "MX") {
		t.Errorf("table: %s", table)
	}
	if got := queryA(t, s.dnsAddr, "www.example.com."); got != "192.0.2.3" {
		t.Errorf("DNS answer after set: %q", got)
	}
	var j apiv1.Journal
	if err := json.Unmarshal([]byte(s.mustCLI("zone", "journal", "example.com", "--from", "1", "-o", "json")), &j); err != nil {
		t.Fatal(err)
	}
	if len(j.Entries) != 5 || j.Entries[4].Actor != "admin" {
		t.Errorf("journal: %+v", j)
	}
	tok := s.mustCLI("token", "create", "ci", "--scope", "zones:read", "-o", "json")
	var ct apiv1.CreatedToken
	if err := json.Unmarshal([]byte(tok), &ct); err != nil || ct.Secret == "" {
		t.Fatalf("token create: %s", tok)
	}
	_, errOut, code := runCLI(t, []string{"--server", "http://" + s.apiAddr, "--token", ct.Secret, "record", "add", "example.com", "x", "A", "192.0.2.9"}, nil)
	if code != 5 || !strings.Contains(errOut, "zones:write") {
		t.Errorf("read-only token writing: exit %d %s", code, errOut)
	}
	if out := s.mustCLI("token", "list"); !strings.Contains(out, "ci") || strings.Contains(out, ct.Secret) {
		t.Errorf("token list: %s", out)
	}
	s.mustCLI("token", "delete", ct.ID)
}

// TestCLITSIG creates TSIG keys (generated, and from a secret on standard
// input), lists them without secrets, and deletes one.
func TestCLITSIG(t *testing.T) {
	s := startServer(t, "")
	var k apiv1.CreatedTSIGKey
	out := s.mustCLI("tsig", "create", "xfr.example.com", "-o", "json")
	if err := json.Unmarshal([]byte(out), &k); err != nil || k.Secret == "" || k.Algorithm != "hmac-sha256" || k.Name != "xfr.example.com." {
		t.Fatalf("tsig create: %s (%v)", out, err)
	}
	given := "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	stdout, errOut, code := runCLI(t, []string{"--server", "http://" + s.apiAddr, "--data-dir", s.dataDir, "tsig", "create", "peer", "--algorithm", "hmac-sha512", "--secret-file", "-"}, strings.NewReader(given+"\n"))
	if code != 0 || strings.Contains(stdout, given) || !strings.Contains(stdout, "peer.") || !strings.Contains(stdout, "hmac-sha512") {
		t.Fatalf("tsig create --secret-file -: exit %d %s %s", code, stdout, errOut)
	}
	// Nor in JSON; the key is what was given.
	secretFile := filepath.Join(t.TempDir(), "peer2.secret")
	if err := os.WriteFile(secretFile, []byte(given+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out = s.mustCLI("tsig", "create", "peer2", "--secret-file", secretFile, "-o", "json")
	var k2 apiv1.CreatedTSIGKey
	if err := json.Unmarshal([]byte(out), &k2); err != nil || strings.Contains(out, given) || k2.Secret != "" || k2.Name != "peer2." {
		t.Errorf("tsig create --secret-file -o json: %s (%v)", out, err)
	}
	_, errOut, code = runCLI(t, []string{"--server", "http://" + s.apiAddr, "--data-dir", s.dataDir, "tsig", "create", "bad", "--algorithm", "hmac-md5"}, nil)
	if code != 2 || !strings.Contains(errOut, "algorithm") {
		t.Errorf("unknown algorithm: exit %d %s", code, errOut)
	}
	_, errOut, code = runCLI(t, []string{"--server", "http://" + s.apiAddr, "--data-dir", s.dataDir, "tsig", "create", "peer"}, nil)
	if code != 4 {
		t.Errorf("existing key: exit %d %s", code, errOut)
	}
	list := s.mustCLI("tsig", "list")
	if !strings.Contains(list, "xfr.example.com.") || !strings.Contains(list, "peer.") || strings.Contains(list, given) || strings.Contains(list, k.Secret) {
		t.Errorf("tsig list: %s", list)
	}
	if out := s.mustCLI("tsig", "get", "peer"); !strings.Contains(out, "hmac-sha512") || strings.Contains(out, given) {
		t.Errorf("tsig get: %s", out)
	}
	s.mustCLI("tsig", "delete", "peer")
	if _, _, code := s.cli("tsig", "get", "peer"); code != 3 {
		t.Errorf("get a deleted key: exit %d", code)
	}

	// Zone ACLs and NOTIFY targets name keys.
	out = s.mustCLI("zone", "create", "xfr.test", "--ns", "ns1.xfr.test", "--allow-transfer", "key=xfr.example.com", "--notify", "127.0.0.1:5300,key=xfr.example.com")
	if !strings.Contains(out, "key=xfr.example.com.") || !strings.Contains(out, "127.0.0.1:5300,key=xfr.example.com.") {
		t.Errorf("zone create with ACLs: %s", out)
	}
	out = s.mustCLI("zone", "update", "xfr.test", "--allow-update", "key=xfr.example.com,network=127.0.0.0/8", "--notify", "none")
	if !strings.Contains(out, "allow transfer  key=xfr.example.com.") || !strings.Contains(out, "key=xfr.example.com.,network=127.0.0.0/8") || !strings.Contains(out, "notify          none") {
		t.Errorf("zone update: %s", out)
	}
	for _, bad := range [][]string{
		{"zone", "update", "xfr.test", "--allow-transfer", "10.0.0.1/8"},
		{"zone", "update", "xfr.test", "--notify", "ns1.example.com"},
		{"zone", "update", "xfr.test"},
		{"zone", "update", "xfr.test", "--allow-transfer", "key=missing"},
	} {
		if _, errOut, code := s.cli(bad...); code != 2 {
			t.Errorf("%v: exit %d %s", bad, code, errOut)
		}
	}
	if _, errOut, code := s.cli("tsig", "delete", "xfr.example.com"); code != 4 || !strings.Contains(errOut, "xfr.test.") {
		t.Errorf("delete a key in use: exit %d %s", code, errOut)
	}
}

// TestCLIImportExport imports a zone file, exports it, checks the export
// with BIND's named-checkzone, and re-imports it unchanged.
func TestCLIImportExport(t *testing.T) {
	checkzone := testutil.Tool(t, "named-checkzone")
	s := startServer(t, "")
	out := s.mustCLI("zone", "import", "example.com", "testdata/cli-example.zone")
	if !strings.Contains(out, "created") || !strings.Contains(out, "2026112601") {
		t.Errorf("import: %s", out)
	}
	exported := filepath.Join(t.TempDir(), "export.zone")
	s.mustCLI("zone", "export", "example.com", "-f", exported)
	outb, err := runCmd(checkzone, "-i", "local", "example.com", exported)
	if err != nil {
		t.Errorf("named-checkzone rejects the export: %v\n%s", err, outb)
	}
	out = s.mustCLI("zone", "import", "example.com", exported)
	if !strings.Contains(out, "unchanged") {
		t.Errorf("re-import of the export: %s", out)
	}
	// From standard input, with the serial checked.
	f, err := os.Open("testdata/cli-example.zone")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stdout, errOut, code := runCLI(t, []string{"--server", "http://" + s.apiAddr, "--data-dir", s.dataDir, "zone", "import", "example.com", "-", "--if-match", "7"}, f)
	if code != 4 {
		t.Errorf("import with a stale --if-match: exit %d %s %s", code, stdout, errOut)
	}
	if got := queryA(t, s.dnsAddr, "api.example.com."); got != "192.0.2.1" {
		t.Errorf("DNS answer for api.example.com.: %q", got)
	}
}

// TestHelpEverywhere runs --help on every command.
func TestHelpEverywhere(t *testing.T) {
	cmds := [][]string{
		{}, {"serve"}, {"version"}, {"zone"}, {"zone", "list"}, {"zone", "get"}, {"zone", "create"}, {"zone", "delete"},
		{"zone", "import"}, {"zone", "export"}, {"zone", "journal"}, {"zone", "compact-journal"}, {"record"}, {"record", "list"}, {"record", "add"},
		{"record", "set"}, {"record", "delete"}, {"token"}, {"token", "list"}, {"token", "create"}, {"token", "delete"},
		{"service"}, {"service", "list"}, {"service", "get"}, {"service", "create"}, {"service", "update"}, {"service", "apply"}, {"service", "delete"},
		{"service", "explain"}, {"pool"}, {"pool", "list"}, {"pool", "drain"}, {"pool", "undrain"}, {"pool", "force-up"},
		{"endpoint"}, {"endpoint", "list"}, {"endpoint", "register"}, {"endpoint", "renew"}, {"endpoint", "deregister"},
		{"endpoint", "override"}, {"endpoint", "report"}, {"events"},
		{"zone", "update"}, {"drill"}, {"drill", "run"}, {"drill", "list"}, {"drill", "show"}, {"drill", "start"}, {"tsig"}, {"tsig", "list"}, {"tsig", "get"}, {"tsig", "create"}, {"tsig", "delete"},
		{"store"}, {"store", "copy"},
	}
	for _, c := range cmds {
		out, errOut, code := runCLI(t, append(c, "--help"), nil)
		if code != 0 || !strings.Contains(out, "Usage:") {
			t.Errorf("stratus %s --help: exit %d\n%s%s", strings.Join(c, " "), code, out, errOut)
		}
	}
	out, _, code := runCLI(t, []string{"version", "-o", "json"}, nil)
	var v struct{ Version, GoVersion string }
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v.Version == "" {
		t.Errorf("version -o json: exit %d %s", code, out)
	}
}

// TestCLIRootZone manages the root zone, whose name "." must survive URL
// path handling.
func TestCLIRootZone(t *testing.T) {
	s := startServer(t, "")
	s.mustCLI("zone", "create", ".", "--ns", "a.root-servers.test.")
	var z apiv1.Zone
	if err := json.Unmarshal([]byte(s.mustCLI("zone", "get", ".", "-o", "json")), &z); err != nil || z.Name != "." || (z.Serial == nil || *z.Serial != 1) {
		t.Fatalf("zone get .: %+v %v", z, err)
	}
	s.mustCLI("record", "add", ".", "a.root-servers.test.", "A", "198.51.100.4")
	if out := s.mustCLI("record", "list", "."); !strings.Contains(out, "198.51.100.4") {
		t.Errorf("record list .: %s", out)
	}
	if got := queryA(t, s.dnsAddr, "a.root-servers.test."); got != "198.51.100.4" {
		t.Errorf("DNS answer in the root zone: %q", got)
	}
	s.mustCLI("zone", "delete", ".")
	if _, _, code := s.cli("zone", "get", "."); code != 3 {
		t.Errorf("zone get . after delete: exit %d", code)
	}
}

// TestCLITokenPrecedence: flags beat the environment, which beats the
// config file.
func TestCLITokenPrecedence(t *testing.T) {
	s := startServer(t, "")
	good := filepath.Join(s.dataDir, "admin.token")
	run := func(env []string, args ...string) int {
		t.Helper()
		cmd := exec.Command(binary, append([]string{"--server", "http://" + s.apiAddr}, args...)...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return 0
	}
	bogus := "STRATUS_TOKEN=stratus_000000000000_bogus"
	if code := run([]string{bogus}, "--token-file", good, "zone", "list"); code != 0 {
		t.Errorf("--token-file with a bogus STRATUS_TOKEN: exit %d, want 0 (the flag wins)", code)
	}
	if code := run([]string{bogus}, "--data-dir", s.dataDir, "zone", "list"); code != 0 {
		t.Errorf("--data-dir with a bogus STRATUS_TOKEN: exit %d, want 0 (the flag wins)", code)
	}
	if code := run([]string{bogus, "STRATUS_DATA_DIR=" + s.dataDir}, "zone", "list"); code != 5 {
		t.Errorf("bogus STRATUS_TOKEN and STRATUS_DATA_DIR: exit %d, want 5 (the token wins)", code)
	}
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(cfg, []byte("client:\n  token: stratus_000000000000_bogus\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code := run([]string{"STRATUS_TOKEN_FILE=" + good}, "--config", cfg, "zone", "list"); code != 0 {
		t.Errorf("STRATUS_TOKEN_FILE with a bogus config token: exit %d, want 0 (the environment wins)", code)
	}
	if code := run(nil, "--config", cfg, "zone", "list"); code != 5 {
		t.Errorf("bogus config token alone: exit %d, want 5", code)
	}
}

func TestCLICompactJournal(t *testing.T) {
	s := startServer(t, "")
	s.mustCLI("zone", "create", "example.com", "--ns", "ns1.example.com.")
	for _, ip := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"} {
		s.mustCLI("record", "add", "example.com", "www", "A", ip)
	}
	if out := s.mustCLI("zone", "compact-journal", "example.com", "--keep", "2"); !strings.Contains(out, "2 entries kept") {
		t.Errorf("compact-journal: %s", out)
	}
	var j apiv1.Journal
	if err := json.Unmarshal([]byte(s.mustCLI("zone", "journal", "example.com", "--from", "1", "-o", "json")), &j); err != nil || len(j.Entries) != 2 || j.Entries[1].NewSerial != 4 {
		t.Errorf("journal after compaction: %+v %v", j, err)
	}
}
