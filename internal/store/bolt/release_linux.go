package bolt

import "syscall"

// dropPages drops the pages of the read-only shared file mapping of size
// octets at addr from the process (madvise MADV_DONTNEED): the next
// access maps them again from the page cache.
func dropPages(addr uintptr, size int64) error {
	if size <= 0 {
		return nil
	}
	if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, addr, uintptr(size), syscall.MADV_DONTNEED); errno != 0 {
		return errno
	}
	return nil
}
