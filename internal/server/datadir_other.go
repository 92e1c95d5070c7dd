//go:build !unix

package server

import "io/fs"

// fileOwner: owners are not compared on this system.
func fileOwner(fs.FileInfo) (owner, me int, ok bool) { return 0, 0, false }
