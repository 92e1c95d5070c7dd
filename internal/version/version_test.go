package version

import (
	"runtime/debug"
	"testing"
)

func TestGet(t *testing.T) {
	const rev = "604895e1b2c3d4e5f60718293a4b5c6d7e8f9012"
	built := &debug.BuildInfo{
		Main: debug.Module{Path: "github.com/stratusdns/stratus", Version: "v0.0.0-20260101120000-604895e1b2c3+dirty"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: rev},
			{Key: "vcs.time", Value: "2026-01-01T12:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	devel := &debug.BuildInfo{Main: debug.Module{Path: "github.com/stratusdns/stratus", Version: "(devel)"}}
	tests := []struct {
		name            string
		bi              *debug.BuildInfo
		version, commit string // set with -ldflags
		want            Info
	}{
		{"go build in a checkout", built, "", "", Info{Version: built.Main.Version, Commit: rev, CommitTime: "2026-01-01T12:00:00Z", Modified: true}},
		{"ldflags version wins", built, "v1.2.3", "", Info{Version: "v1.2.3", Commit: rev, CommitTime: "2026-01-01T12:00:00Z", Modified: true}},
		{"ldflags commit wins", built, "v1.2.3", "abc123", Info{Version: "v1.2.3", Commit: "abc123"}},
		{"ldflags commit, the same as recorded", built, "", rev, Info{Version: built.Main.Version, Commit: rev, CommitTime: "2026-01-01T12:00:00Z", Modified: true}},
		{"go run", devel, "", "", Info{Version: "dev"}},
		{"go run with ldflags", devel, "v1.2.3", "abc123", Info{Version: "v1.2.3", Commit: "abc123"}},
		{"no build information", nil, "", "", Info{Version: "dev"}},
	}
	for _, tc := range tests {
		got := get(tc.bi, tc.version, tc.commit)
		got.GoVersion, got.Platform = "", ""
		if got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
