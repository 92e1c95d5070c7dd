// Package version reports which build of Stratus is running.
//
// A plain "go build" in a git checkout records the module version and the
// commit in the binary (debug.ReadBuildInfo: vcs.revision, vcs.time,
// vcs.modified), and that is what Get reports. A release build may set the
// values instead, and what it sets wins:
//
//	go build -ldflags "-X github.com/stratusdns/stratus/internal/version.Version=v1.2.3 \
//	    -X github.com/stratusdns/stratus/internal/version.Commit=$(git rev-parse HEAD)" ./cmd/stratus
//
// "go run" and builds outside a checkout (or with -buildvcs=false) record
// no commit; the version is then "dev".
package version

import (
	"runtime"
	"runtime/debug"
)

// Version and Commit are set at build time with -ldflags -X; empty, the
// build information recorded by the go command is used.
var (
	Version string
	Commit  string
)

// Info describes the running build.
type Info struct {
	Version    string `json:"version"`
	Commit     string `json:"commit,omitempty"`
	CommitTime string `json:"commit_time,omitempty"` // RFC 3339, from vcs.time
	Modified   bool   `json:"modified,omitempty"`    // built from a checkout with uncommitted changes
	GoVersion  string `json:"go_version"`
	Platform   string `json:"platform"`
}

// Get returns the build information.
func Get() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return get(bi, Version, Commit)
}

// get merges the values set with -ldflags (version, commit) with the build
// information bi (nil when there is none); a value set with -ldflags wins.
func get(bi *debug.BuildInfo, version, commit string) Info {
	i := Info{Version: version, Commit: commit, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi != nil {
		if i.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			i.Version = bi.Main.Version
		}
		var rev, at string
		var modified bool
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		// The time and state belong to the recorded revision: kept only
		// when it is the commit reported.
		if i.Commit == "" || i.Commit == rev {
			i.Commit, i.CommitTime, i.Modified = rev, at, modified
		}
	}
	if i.Version == "" {
		i.Version = "dev"
	}
	return i
}
