package zonefile

import "github.com/stratusdns/stratus/internal/model"

// ParseOptions control Parse.
type ParseOptions struct {
	// Origin is the zone being read; it is also the initial $ORIGIN.
	Origin model.Name
	// File is the name used in error messages ("zone.db"); default "zone".
	File string
	// AllowInclude permits $INCLUDE directives, which are refused unless
	// it is set.
	AllowInclude bool
	// IncludeDir is the directory $INCLUDE paths resolve in when
	// AllowInclude is set; empty means the current directory. Included
	// files cannot escape it: absolute paths are taken relative to it and
	// ".." or symbolic links leading outside it are refused.
	IncludeDir string
	// DefaultTTL is the TTL of records that come before any $TTL directive
	// and give none themselves; 0 means model.DefaultZoneTTL.
	DefaultTTL uint32
	// MaxRecords bounds the records read, duplicates and $INCLUDEd files
	// included (0: DefaultMaxRecords).
	MaxRecords int
	// MaxGeneratedRecords bounds the records the $GENERATE directives
	// make together (0: DefaultMaxGeneratedRecords).
	MaxGeneratedRecords int
	// Progress, if non-nil, is called with the number of records read so
	// far about every ProgressInterval records and once at the end.
	Progress func(records int)
}

// ProgressInterval is how many records Parse reads between calls of
// ParseOptions.Progress.
const ProgressInterval = 10000

// DefaultMaxRecords is ParseOptions.MaxRecords when not set: about what
// api.max_zonefile_bytes (128 MiB) holds of short records, five times the
// largest zones benchmarked.
const DefaultMaxRecords = 5_000_000

// DefaultMaxGeneratedRecords is ParseOptions.MaxGeneratedRecords when not
// set: four full ranges, such as the PTR records of a /14.
const DefaultMaxGeneratedRecords = 4 * MaxGenerateRange

// MaxGenerateRange is the most records one $GENERATE directive makes, the
// bound miekg/dns puts on its range (65,536, the addresses of a /16).
const MaxGenerateRange = 65536

func (o *ParseOptions) maxRecords() int {
	if o.MaxRecords <= 0 {
		return DefaultMaxRecords
	}
	return o.MaxRecords
}

func (o *ParseOptions) maxGenerated() int {
	if o.MaxGeneratedRecords <= 0 {
		return DefaultMaxGeneratedRecords
	}
	return o.MaxGeneratedRecords
}

// defaultFile names the input in errors when ParseOptions.File is empty.
const defaultFile = "zone"

func (o *ParseOptions) file() string {
	if o.File == "" {
		return defaultFile
	}
	return o.File
}

func (o *ParseOptions) defaultTTL() uint32 {
	if o.DefaultTTL == 0 {
		return model.DefaultZoneTTL
	}
	return o.DefaultTTL
}
