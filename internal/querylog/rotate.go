package querylog

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// backupTime is the time a rotated file's name carries, in UTC: the
// names sort in the order the files were rotated.
const backupTime = "2006-01-02T15-04-05.000"

// rotatingFile is a file that is renamed aside when it reaches a size:
// queries.log becomes queries-2026-12-07T23-20-42.123.log and a new
// queries.log is opened. Rotated files beyond a count, or older than an
// age, are removed. It is written by one goroutine.
type rotatingFile struct {
	path       string
	maxSize    int64         // rotate before a write would pass it (0: never)
	maxBackups int           // rotated files kept (0: all)
	maxAge     time.Duration // rotated files older are removed (0: none)
	now        func() time.Time

	f    *os.File
	size int64
	// broken says a short write left a line unfinished that could not
	// be cut off: the next write starts a new line.
	broken bool
}

// writeFile and truncateFile are the file's Write and Truncate (tests
// make them fail).
var (
	writeFile    = (*os.File).Write
	truncateFile = (*os.File).Truncate
)

func openRotating(path string, maxSize int64, maxBackups int, maxAge time.Duration, now func() time.Time) (*rotatingFile, error) {
	r := &rotatingFile{path: path, maxSize: maxSize, maxBackups: maxBackups, maxAge: maxAge, now: now}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *rotatingFile) open() error {
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("query log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("query log: %w", err)
	}
	r.f, r.size = f, st.Size()
	return nil
}

// Write writes p, rotating first when p would take the file past its
// size (a file holds at least one write, however large).
func (r *rotatingFile) Write(p []byte) (int, error) {
	if r.f == nil { // a rotation failed to open the new file: try again
		if err := r.open(); err != nil {
			return 0, err
		}
	}
	if r.maxSize > 0 && r.size > 0 && r.size+int64(len(p)) > r.maxSize {
		if err := r.rotate(); err != nil {
			return 0, err
		}
	}
	if r.broken {
		n, err := writeFile(r.f, []byte{'\n'})
		r.size += int64(n)
		if err != nil {
			return 0, err
		}
		r.broken = false
	}
	n, err := writeFile(r.f, p)
	if err != nil && n > 0 {
		// A short write (a full disk) must not leave part of a line
		// for the next write to continue: cut it off, or failing that
		// end it.
		if truncateFile(r.f, r.size) == nil {
			return 0, err
		}
		r.broken = p[n-1] != '\n'
	}
	r.size += int64(n)
	return n, err
}

// reopenIfMoved reopens the file when its path no longer names it: it
// was moved aside or removed from outside (logrotate's create mode, an
// operator). Without this the log would go on writing to an inode no
// one can read. A failed open is retried by the next Write.
func (r *rotatingFile) reopenIfMoved() {
	if r.f == nil {
		return
	}
	pst, err := os.Stat(r.path)
	if err == nil {
		if fst, ferr := r.f.Stat(); ferr == nil && os.SameFile(pst, fst) {
			return
		}
	}
	r.f.Close()
	r.f = nil
	r.open()
}

func (r *rotatingFile) rotate() error {
	if err := r.f.Close(); err != nil {
		return fmt.Errorf("query log: %w", err)
	}
	r.f = nil
	if err := os.Rename(r.path, r.backupName(r.now())); err != nil {
		return fmt.Errorf("query log: rotate: %w", err)
	}
	if err := r.open(); err != nil {
		return err
	}
	r.prune()
	return nil
}

func (r *rotatingFile) split() (dir, prefix, ext string) {
	dir = filepath.Dir(r.path)
	base := filepath.Base(r.path)
	ext = filepath.Ext(base)
	return dir, strings.TrimSuffix(base, ext) + "-", ext
}

func (r *rotatingFile) backupName(t time.Time) string {
	dir, prefix, ext := r.split()
	return filepath.Join(dir, prefix+t.UTC().Format(backupTime)+ext)
}

// backups returns the rotated files, newest first, with their times.
func (r *rotatingFile) backups() ([]string, []time.Time) {
	dir, prefix, ext := r.split()
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil
	}
	type backup struct {
		name string
		t    time.Time
	}
	var bs []backup
	for _, e := range ents {
		n := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(n, prefix) || !strings.HasSuffix(n, ext) {
			continue
		}
		t, err := time.Parse(backupTime, strings.TrimSuffix(strings.TrimPrefix(n, prefix), ext))
		if err != nil {
			continue
		}
		bs = append(bs, backup{filepath.Join(dir, n), t})
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i].t.After(bs[j].t) })
	names := make([]string, len(bs))
	times := make([]time.Time, len(bs))
	for i, b := range bs {
		names[i], times[i] = b.name, b.t
	}
	return names, times
}

// prune removes the rotated files beyond maxBackups and those older than
// maxAge.
func (r *rotatingFile) prune() {
	if r.maxBackups == 0 && r.maxAge == 0 {
		return
	}
	names, times := r.backups()
	cutoff := r.now().Add(-r.maxAge)
	for i, n := range names {
		if (r.maxBackups > 0 && i >= r.maxBackups) || (r.maxAge > 0 && times[i].Before(cutoff)) {
			os.Remove(n)
		}
	}
}

func (r *rotatingFile) Close() error {
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}
