//go:build unix

package server

import (
	"io/fs"
	"os"
	"syscall"
)

// fileOwner returns the user id owning fi and that of the running user.
func fileOwner(fi fs.FileInfo) (owner, me int, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(st.Uid), os.Geteuid(), true
}
