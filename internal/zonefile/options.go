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
	// Progress, if non-nil, is called with the number of records read so
	// far about every ProgressInterval records and once at the end.
	Progress func(records int)
}

// ProgressInterval is how many records Parse reads between calls of
// ParseOptions.Progress.
const ProgressInterval = 10000

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
