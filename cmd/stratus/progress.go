package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// progress shows one self-overwriting status line on a terminal, at most
// ten times a second. On anything that is not a terminal it shows nothing.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	on    bool
	last  time.Time
	start time.Time
}

func (a *app) progress() *progress {
	p := &progress{w: a.stderr, start: time.Now()}
	if f, ok := a.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.on = true
	}
	return p
}

// set replaces the status line (rate-limited unless force).
func (p *progress) set(force bool, format string, args ...any) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !force && time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.w, "\r%s  [%s]\x1b[K", fmt.Sprintf(format, args...), time.Since(p.start).Round(100*time.Millisecond))
}

// done ends the status line.
func (p *progress) done() {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprint(p.w, "\r\x1b[K")
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w    io.Writer
	n    int64
	tick func(n int64)
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	if c.tick != nil {
		c.tick(c.n)
	}
	return n, err
}
