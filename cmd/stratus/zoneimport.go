package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/zonefile"
	"github.com/stratusdns/stratus/pkg/client"
)

func (a *app) zoneImportCommand() *cobra.Command {
	var (
		ifMatch      uint32
		createOnly   bool
		policy       string
		allowInclude bool
	)
	cmd := &cobra.Command{
		Use:   "import ZONE FILE",
		Short: "Make a zone file the zone's whole content (creating the zone if needed)",
		Long: `Read an RFC 1035 zone file, check it, and make it the zone's whole content in
one change: records not in the file are removed. The zone is created when it
does not exist. FILE "-" reads standard input.

The file is checked here first, so errors name FILE:LINE before anything is
sent. $INCLUDE is refused unless --allow-include is given; included files are
read here, relative to FILE's directory. The records the file makes, after
$GENERATE is expanded, are bounded by zones.max_records and
zones.max_generated_records of the config file (5,000,000 and 262,144 by
default); reading stops at the first record beyond them.

The zone's serial advances as usual, or jumps to the file's SOA serial when
that is later.

TTLs: every record keeps the TTL the file gives it, its own or the $TTL in
force where it stands (as BIND and Knot read a zone file). The import does
not change the zone's default TTL, the one records added later without a TTL
get (3600 for a zone the import creates): when the file's $TTL differs from
it, this says so; "stratus zone update ZONE --ttl N" changes it.`,
		Example: `  stratus zone import example.com example.com.zone
  stratus zone import example.com example.com.zone --if-match 42`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			origin, err := model.ParseName(args[0])
			if err != nil {
				return usagef("zone name: %v", err)
			}
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			cfg, err := a.loadConfig(true)
			if err != nil {
				return err
			}
			var in io.Reader = a.stdin
			name, dir := "stdin", "."
			if args[1] != "-" {
				f, err := os.Open(args[1])
				if err != nil {
					return usagef("%v", err)
				}
				defer f.Close()
				in, name, dir = f, args[1], filepath.Dir(args[1])
			}
			fileTTL := &ttlWatcher{atStart: true}
			in = io.TeeReader(in, fileTTL)
			prog := a.progress()
			defer prog.done()
			start := time.Now()
			sets, err := zonefile.Parse(bufio.NewReaderSize(in, 1<<20), zonefile.ParseOptions{
				Origin: origin, File: name, AllowInclude: allowInclude, IncludeDir: dir,
				MaxRecords: cfg.Zones.MaxRecords, MaxGeneratedRecords: cfg.Zones.MaxGeneratedRecords,
				Progress: func(n int) { prog.set(false, "reading %s: %d records", name, n) },
			})
			if err != nil {
				return err
			}
			records := 0
			for _, s := range sets {
				records += len(s.Rdata)
			}
			prog.set(true, "read %d records in %d RRsets", records, len(sets))

			// Send the parsed zone (with any $INCLUDEs resolved), streamed.
			pr, pw := io.Pipe()
			go func() {
				// zonefile.Write buffers and flushes its output itself.
				err := zonefile.Write(&countingWriter{w: pw, tick: func(n int64) {
					prog.set(false, "uploading: %.1f MB", float64(n)/1e6)
				}}, origin, sets)
				prog.set(true, "uploaded; the server is importing %d records", records)
				pw.CloseWithError(err)
			}()
			res, err := c.ImportZone(cmd.Context(), string(origin), pr, client.ImportOptions{
				IfMatch: optSerial(cmd, "if-match", ifMatch), CreateOnly: createOnly, SerialPolicy: policy,
			})
			pr.Close()
			if err != nil {
				return err
			}
			prog.done()
			if fileTTL.found {
				if z, err := c.Zone(cmd.Context(), string(origin)); err == nil && z.DefaultTTL != fileTTL.ttl {
					fmt.Fprintf(a.stderr, "note: the records took the TTLs in %s ($TTL %d); the zone's default TTL, for records added later without one, stays %d (stratus zone update %s --ttl %d changes it)\n",
						name, fileTTL.ttl, z.DefaultTTL, args[0], fileTTL.ttl)
				}
			}
			return p.print(res, func(w io.Writer) {
				verb := "replaced"
				switch {
				case res.Created:
					verb = "created"
				case !res.Changed:
					verb = "unchanged"
				}
				row(w, "zone", res.Zone)
				row(w, "result", verb)
				row(w, "serial", fmt.Sprintf("%d -> %d", res.OldSerial, res.Serial))
				row(w, "rrsets", res.RRsets)
				row(w, "records", res.Records)
				row(w, "took", duration(time.Since(start)))
			})
		},
	}
	f := cmd.Flags()
	f.Uint32Var(&ifMatch, "if-match", 0, "replace only if the zone's serial is still this")
	f.BoolVar(&createOnly, "create-only", false, "fail if the zone exists already")
	f.StringVar(&policy, "serial-policy", "", "serial policy of a zone this import creates: increment or date")
	f.BoolVar(&allowInclude, "allow-include", false, "allow $INCLUDE directives (files are read relative to FILE)")
	return cmd
}

// ttlWatcher sees a zone file go by and keeps the value of its first $TTL
// directive.
type ttlWatcher struct {
	atStart bool   // the next byte starts a line
	line    []byte // the directive line being read
	inLine  bool   // reading a line that starts with '$'
	found   bool
	ttl     uint32
}

func (w *ttlWatcher) Write(p []byte) (int, error) {
	for _, b := range p {
		if w.found {
			break
		}
		switch {
		case b == '\n':
			if w.inLine {
				w.directive()
			}
			w.atStart, w.inLine, w.line = true, false, w.line[:0]
		case w.atStart:
			w.atStart = false
			w.inLine = b == '$'
			if w.inLine {
				w.line = append(w.line, b)
			}
		case w.inLine && len(w.line) < 256:
			w.line = append(w.line, b)
		}
	}
	return len(p), nil
}

func (w *ttlWatcher) directive() {
	f := strings.Fields(string(w.line))
	if len(f) < 2 || !strings.EqualFold(f[0], "$TTL") {
		return
	}
	if ttl, ok := parseZoneTTL(f[1]); ok {
		w.found, w.ttl = true, ttl
	}
}

// parseZoneTTL reads a zone file TTL: seconds, or BIND's units ("1h30m").
func parseZoneTTL(s string) (uint32, bool) {
	if s == "" {
		return 0, false
	}
	var total, n uint64
	digits := false
	for _, c := range strings.ToLower(s) {
		if c >= '0' && c <= '9' {
			n, digits = n*10+uint64(c-'0'), true
			if n > 1<<32 {
				return 0, false
			}
			continue
		}
		unit := map[rune]uint64{'s': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800}[c]
		if unit == 0 || !digits {
			return 0, false
		}
		total, n, digits = total+n*unit, 0, false
	}
	total += n
	if total > 1<<32-1 {
		return 0, false
	}
	return uint32(total), true
}
