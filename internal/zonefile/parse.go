package zonefile

import (
	"io"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/model"
)

// Parse reads a zone file for the zone opts.Origin and returns its RRsets
// in the order their first records appear. Owner names are canonical
// (lowercase); identical records collapse into one.
//
// Parse refuses, with a *model.Error whose Field is "file:line": syntax
// errors; $INCLUDE unless opts.AllowInclude is set; names outside the zone;
// classes other than IN; types that cannot be stored (model.CheckStorableType);
// records without data; records of one RRset with different TTLs; and any
// name whose records break the rules of model.CheckNode (CNAME beside other
// data, SOA away from the apex, DS at the apex, ...), reported at the first
// record with that name. The zone must have exactly one SOA record, at its
// apex, and NS records there.
//
// It stops with an error as soon as the file holds more than
// opts.MaxRecords records, or its $GENERATE directives make more than
// opts.MaxGeneratedRecords between them; one directive makes at most
// MaxGenerateRange. Memory and time grow linearly with the number of
// records.
func Parse(r io.Reader, opts ParseOptions) ([]*model.RRset, error) {
	origin, err := model.ParseName(string(opts.Origin))
	if err != nil {
		return nil, model.Errorf("origin", "%v", err)
	}
	ttl := opts.defaultTTL()
	if ttl > model.MaxTTL {
		return nil, model.Errorf("default_ttl", "%d is larger than the maximum TTL %d (RFC 2181 section 8)", ttl, model.MaxTTL)
	}

	return newParser(origin).parse(r, opts, ttl)
}

// parse reads the zone file r with the options of Parse.
func (p *parser) parse(r io.Reader, opts ParseOptions, ttl uint32) ([]*model.RRset, error) {
	fsys := &includeFS{t: p.t, allowed: opts.AllowInclude, dir: opts.IncludeDir}
	defer fsys.close()

	// The parser's own file name stays empty so that miekg/dns resolves
	// $INCLUDE paths relative to the root of fsys; positions come from
	// the tracker.
	zp := dns.NewZoneParser(p.t.newReader(opts.file(), r), string(p.origin), "")
	zp.SetDefaultTTL(ttl)
	// Includes are always "allowed" by miekg/dns and refused by fsys, so
	// that a refusal is recognisable whatever miekg/dns calls it.
	zp.SetIncludeAllowed(true)
	zp.SetIncludeFS(fsys)

	n, generated := 0, 0
	maxRecords, maxGenerated := opts.maxRecords(), opts.maxGenerated()
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		pos, text, gen := p.t.take()
		if p.trace != nil {
			p.trace(rr, pos)
		}
		// The limits are checked as records are read, so that what a few
		// lines of $GENERATE would expand to is never built.
		if n == maxRecords {
			return nil, p.errorAt(pos, "the zone file holds more than %d records, the limit of one import (zones.max_records)", maxRecords)
		}
		if gen {
			if generated == maxGenerated {
				return nil, p.errorAt(pos, "the $GENERATE lines make more than %d records in all, the limit of one zone file (zones.max_generated_records)", maxGenerated)
			}
			generated++
		}
		if err := p.add(rr, pos, text); err != nil {
			return nil, err
		}
		n++
		if opts.Progress != nil && n%ProgressInterval == 0 {
			opts.Progress(n)
		}
	}
	if err := zp.Err(); err != nil {
		return nil, p.syntaxError(err)
	}
	if opts.Progress != nil {
		opts.Progress(n)
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	return p.sets, nil
}
