package zonefile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// errIncludeRefused is what the include file system returns when $INCLUDE
// is not allowed. The parser always lets miekg/dns try to open includes and
// refuses them here, so a refused $INCLUDE is recognised by this error
// rather than by the wording of a miekg/dns message.
var errIncludeRefused = errors.New("$INCLUDE is not allowed (enable it explicitly)")

// includeFS is the fs.FS miekg/dns opens $INCLUDE files through. It refuses
// every file unless includes are allowed, opens the include directory
// lazily (so a bad directory is reported at the $INCLUDE line) and wraps
// each file in a lineReader so that positions in it are known.
type includeFS struct {
	t       *tracker
	allowed bool
	dir     string
	root    *os.Root
}

// Open implements fs.FS.
func (f *includeFS) Open(name string) (fs.File, error) {
	if !f.allowed {
		return nil, errIncludeRefused
	}
	if f.root == nil {
		dir := f.dir
		if dir == "" {
			dir = "."
		}
		root, err := os.OpenRoot(dir)
		if err != nil {
			return nil, &includeError{fmt.Sprintf("cannot open the $INCLUDE directory %s: %v", dir, pathErr(err))}
		}
		f.root = root
	}
	if !fs.ValidPath(name) {
		return nil, &includeError{fmt.Sprintf("$INCLUDE file %q is outside the include directory", name)}
	}
	file, err := f.root.FS().Open(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &includeError{fmt.Sprintf("$INCLUDE file %q does not exist in the include directory", name)}
	case err != nil:
		return nil, &includeError{fmt.Sprintf("cannot open $INCLUDE file %q: %v", name, pathErr(err))}
	}
	return &includeFile{File: file, r: f.t.newReader(name, file)}, nil
}

// includeError is why an $INCLUDE file could not be opened, in words
// that do not repeat the path twice as fs.PathError and miekg/dns would.
type includeError struct{ msg string }

func (e *includeError) Error() string { return e.msg }

// pathErr strips the operation and path from an fs.PathError.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// close releases the include directory, if it was opened.
func (f *includeFS) close() {
	if f.root != nil {
		f.root.Close()
		f.root = nil
	}
}

// includeFile is an included file read through a lineReader.
type includeFile struct {
	fs.File
	r *lineReader
}

// Read implements io.Reader.
func (f *includeFile) Read(p []byte) (int, error) { return f.r.Read(p) }

// ReadByte implements io.ByteReader; miekg/dns reads through it.
func (f *includeFile) ReadByte() (byte, error) { return f.r.ReadByte() }
