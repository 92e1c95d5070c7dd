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
		Args:  cobra.NoArgs,
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
				row(w, "go", v.GoVersion)
				row(w, "platform", v.Platform)
			})
		},
	}
}
