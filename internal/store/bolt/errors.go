package bolt

import "errors"

// ErrLocked means Open could not take the file lock within Options.Timeout
// because another Store, in this or another process, has the file open.
var ErrLocked = errors.New("another process holds the file lock")

// errTxDone is returned by methods of a transaction used after its function
// has returned.
var errTxDone = errors.New("store/bolt: transaction has ended")
