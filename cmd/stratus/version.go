package main

import (
	"io"

	"github.com/spf13/cobra"
	"github.com/stratusdns/stratus/internal/version"
)

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of this stratus binary",
		Long: `Print the version of this stratus binary: its module version, the git commit
it was built from (with "(modified)" when the checkout had uncommitted
changes) and the commit's time, the Go version and the platform.

"go build" in a git checkout records the commit; "go run" does not.
A release build can set both with -ldflags:
  -X github.com/stratusdns/stratus/internal/version.Version=v1.2.3
  -X github.com/stratusdns/stratus/internal/version.Commit=<full hash>`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := a.printer()
			if err != nil {
				return err
			}
			v := version.Get()
			return p.print(v, func(w io.Writer) {
				commit := v.Commit
				if commit == "" {
					commit = "unknown"
				} else if v.Modified {
					commit += " (modified)"
				}
				row(w, "version", v.Version)
				row(w, "commit", commit)
				if v.CommitTime != "" {
					row(w, "commit time", v.CommitTime)
				}
				row(w, "go", v.GoVersion)
				row(w, "platform", v.Platform)
			})
		},
	}
}
