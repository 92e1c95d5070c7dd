package zonefile_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratusdns/stratus/internal/zonefile"
)

// TestRecordLimits: the records a zone file makes are bounded after
// expansion, and Parse stops at the first record beyond a limit (the
// progress it reports never passes it), naming the line and the limit.
func TestRecordLimits(t *testing.T) {
	bomb, err := os.ReadFile(filepath.Join("testdata", "generate-bomb.zone"))
	if err != nil {
		t.Fatal(err)
	}
	ranges := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "$GENERATE 0-999 g%d-$ A 10.0.0.1\n", i)
		}
		return b.String()
	}
	records := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "h%d A 192.0.2.1\n", i)
		}
		return b.String()
	}
	for _, tc := range []struct {
		name                     string
		src                      string
		maxRecords, maxGenerated int
		want                     string // "" when the file is accepted
	}{
		{"20 full ranges", string(bomb), 0, 70000,
			"zone:8: the $GENERATE lines make more than 70000 records in all, the limit of one zone file (zones.max_generated_records)"},
		{"2 ranges", minimal + ranges(2), 0, 2 * 1000, ""},
		{"3 ranges", minimal + ranges(3), 0, 2 * 1000,
			"zone:7: the $GENERATE lines make more than 2000 records in all"},
		{"a small generated limit", minimal + "$GENERATE 1-3 a$ A 10.0.0.1\n$GENERATE 1-3 b$ A 10.0.0.1\n", 0, 5,
			"zone:6: the $GENERATE lines make more than 5 records in all, the limit of one zone file (zones.max_generated_records)"},
		{"exactly the generated limit", minimal + "$GENERATE 1-3 a$ A 10.0.0.1\n$GENERATE 1-3 b$ A 10.0.0.1\n", 0, 6, ""},
		{"one range too large", minimal + "$GENERATE 0-65536 a$ A 10.0.0.1\n", 0, 0,
			`zone:5: $GENERATE range "0-65536": the stop must not be below the start, and one range makes at most 65536 records`},
		{"a range backwards", minimal + "$GENERATE 9-1 a$ A 10.0.0.1\n", 0, 0,
			`zone:5: $GENERATE range "9-1": the stop must not be below the start`},
		{"more records than the limit", minimal + records(10), 8, 0,
			"zone:10: the zone file holds more than 8 records, the limit of one import (zones.max_records)"},
		{"exactly the record limit", minimal + records(5), 8, 0, ""},
		{"generated records count toward the record limit", minimal + "$GENERATE 1-100 a$ A 10.0.0.1\n", 50, 0,
			"zone:5: the zone file holds more than 50 records"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			limit := tc.maxGenerated
			if limit == 0 {
				limit = zonefile.DefaultMaxGeneratedRecords
			}
			most := 0
			_, err := zonefile.Parse(strings.NewReader(tc.src), zonefile.ParseOptions{
				Origin: origin, MaxRecords: tc.maxRecords, MaxGeneratedRecords: tc.maxGenerated,
				Progress: func(n int) { most = max(most, n) },
			})
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want == "":
				return
			case err == nil:
				t.Fatalf("accepted; want %q", tc.want)
			case !strings.HasPrefix(err.Error(), tc.want):
				t.Fatalf("error %q; want %q", err, tc.want)
			}
			if most > limit+4 {
				t.Errorf("read %d records before stopping at a limit of %d generated", most, limit)
			}
		})
	}
}

// TestRecordLimitInclude: the records of $INCLUDEd files count toward
// the limit, and the error names the included file's line.
func TestRecordLimitInclude(t *testing.T) {
	dir := includeDir(t, map[string]string{"hosts.zone": "a A 192.0.2.1\nb A 192.0.2.2\nc A 192.0.2.3\n"})
	_, err := zonefile.Parse(strings.NewReader(minimal+"$INCLUDE hosts.zone\n"), zonefile.ParseOptions{
		Origin: origin, File: "main.zone", AllowInclude: true, IncludeDir: dir, MaxRecords: 5,
	})
	if want := "hosts.zone:3: the zone file holds more than 5 records"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v; want %q", err, want)
	}
}
