package zonefile

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/stratusdns/stratus/internal/model"
)

// Write writes sets as a zone file for origin: a $ORIGIN line, a comment
// line, then one line per record (owner relative to origin, TTL, class IN,
// type, data, separated by tabs) in the order of model.SortRRsets: the SOA,
// the apex NS records, then the rest in DNS canonical order. The output is
// accepted by BIND's named-checkzone and Parse reads it back to the same
// RRsets. Lines are streamed through a buffer; sets itself is not reordered.
func Write(w io.Writer, origin model.Name, sets []*model.RRset) error {
	zone, err := model.ParseName(string(origin))
	if err != nil {
		return fmt.Errorf("zonefile: origin: %v", err)
	}
	sorted := slices.Clone(sets)
	model.SortRRsets(zone, sorted)

	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString("$ORIGIN " + string(zone) + "\n")
	bw.WriteString("; zone " + string(zone) + " exported by stratus\n")
	var (
		line     []byte
		lastName model.Name
		owner    string
	)
	for _, s := range sorted {
		if s.Name != lastName || owner == "" {
			if !s.Name.IsSubdomainOf(zone) {
				return fmt.Errorf("zonefile: %s %s records are outside zone %s", s.Name, model.TypeString(s.Type), zone)
			}
			owner, lastName = ownerText(s.Name, zone), s.Name
		}
		typ := model.TypeString(s.Type)
		for _, rd := range s.Rdata {
			text, err := model.FormatRdata(s.Type, rd)
			if err != nil {
				return fmt.Errorf("zonefile: %s %s: %v", s.Name, typ, err)
			}
			line = append(line[:0], owner...)
			line = append(line, '\t')
			line = strconv.AppendUint(line, uint64(s.TTL), 10)
			line = append(line, "\tIN\t"...)
			line = append(line, typ...)
			line = append(line, '\t')
			line = append(line, text...)
			line = append(line, '\n')
			if _, err := bw.Write(line); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}

// ownerText renders name as the owner field of a line in a file whose
// $ORIGIN is zone: relative when that is certain to read back as name,
// absolute otherwise, and never starting with '$' (which would make the
// line a directive).
func ownerText(name, zone model.Name) string {
	rel := name.Relative(zone)
	if rel != "@" && zone != model.Root && strings.ContainsRune(rel, '\\') {
		// Escapes are where a relative name could go wrong; check that
		// it resolves back to the same name, as a parser would do.
		if back, err := model.ParseName(rel + "." + string(zone)); err != nil || back != name {
			rel = string(name)
		}
	}
	if strings.HasPrefix(rel, "$") {
		rel = `\` + rel
	}
	return rel
}
