package zonefile

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// position is a line in one of the files being read.
type position struct {
	file int32 // index into tracker.files
	line int32 // 1-based; 0 when unknown
}

// tracker follows where the miekg/dns lexer is reading, which the lexer
// does not expose for the records it returns.
//
// Every input file (the zone file and each $INCLUDE) is read through a
// lineReader. The lexer takes a ByteReader as is and reads one byte at a
// time, and it returns a record as soon as it has consumed the newline that
// ends it, so the bytes a lineReader delivers between two records are
// exactly the text of the second record (plus comments, blank lines and
// directives before it). A lineReader notes the first line in that text
// that holds record content; that is the record's line.
type tracker struct {
	files []string
	cur   *lineReader // the reader that delivered the latest byte
	last  position    // position of the previous record
	text  []byte      // text of the previous record
}

// newReader returns a lineReader for file that reports to t.
func (t *tracker) newReader(file string, r io.Reader) *lineReader {
	t.files = append(t.files, file)
	return &lineReader{
		t:    t,
		file: int32(len(t.files) - 1),
		r:    bufio.NewReaderSize(r, 64<<10),
		bol:  true,
		line: 1,
	}
}

// field renders p as "file:line" for model.Error.Field.
func (t *tracker) field(p position) string {
	line := p.line
	if line <= 0 {
		line = 1
	}
	return t.files[p.file] + ":" + strconv.Itoa(int(line))
}

// take returns the position and text of the record the parser has just
// returned and starts looking for the next one. A record that consumed no
// text of its own comes from $GENERATE (generated is true): the first one
// of a directive is placed at the directive's line, later ones at the same
// line as their predecessor.
func (t *tracker) take() (p position, text []byte, generated bool) {
	r := t.cur
	if r == nil {
		return t.last, t.text, false
	}
	p = position{file: r.file, line: r.start}
	if p.line == 0 {
		generated = true
		p.line = r.directive
	}
	if p.line == 0 {
		p = t.last
		r.text = r.text[:0]
	} else {
		t.text, r.text = r.text, t.text[:0]
	}
	r.start, r.directive = 0, 0
	t.last = p
	return p, t.text, generated
}

// errorPos is where the lexer is now: the line of the latest byte read.
// When miekg/dns reports a line of its own (file says in which file) for
// the current reader, that line is more precise: it is the line of the
// offending token, where the lexer may have read on to the end of the file.
func (t *tracker) errorPos(file string, line int) position {
	r := t.cur
	if r == nil {
		return position{line: 1}
	}
	p := position{file: r.file, line: r.line}
	sameFile := file == t.files[r.file] || file == "" && r.file == 0
	if line > 0 && line <= int(r.line) && sameFile && !r.inGenerate() {
		p.line = int32(line)
	}
	return p
}

// lineReader is the io.ByteReader the lexer reads one file through. It
// counts lines and remembers, since the last record, the first line with
// record content (not blank, not only a comment, not a $ directive) and
// the last directive line.
type lineReader struct {
	t    *tracker
	file int32
	r    *bufio.Reader

	line    int32  // line of the latest byte
	eol     bool   // the latest byte was '\n': the next one starts a line
	bol     bool   // nothing read yet on this line
	comment bool   // inside a ';' comment
	dirLine bool   // this line is a $ directive
	dirWord []byte // the directive's name (at most one octet past "$GENERATE")
	dirOpen bool   // still reading the directive's name

	start     int32  // first line of record content since the last record
	directive int32  // last directive line since the last record
	text      []byte // text read since the last record
}

// ReadByte implements io.ByteReader.
func (r *lineReader) ReadByte() (byte, error) {
	c, err := r.r.ReadByte()
	r.t.cur = r
	if err != nil {
		return c, err
	}
	r.text = append(r.text, c)
	if r.eol {
		r.line++
		r.eol, r.bol, r.comment, r.dirLine = false, true, false, false
	}
	bol := r.bol
	r.bol = false
	switch {
	case c == '\n':
		r.eol, r.dirOpen = true, false
	case r.dirOpen:
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '(' || c == ';':
			r.dirOpen = false
		case len(r.dirWord) <= len("$GENERATE"):
			r.dirWord = append(r.dirWord, c)
		}
	case r.comment || r.dirLine:
	case c == ' ' || c == '\t' || c == '\r':
	case c == ';':
		r.comment = true
	case bol && c == '$':
		r.dirLine, r.dirOpen = true, true
		r.dirWord = append(r.dirWord[:0], c)
		r.directive = r.line
	default:
		if r.start == 0 {
			r.start = r.line
		}
	}
	return c, nil
}

// inGenerate reports whether the lexer has just read a $GENERATE line,
// whose records come from text that miekg/dns generates and numbers from 1.
func (r *lineReader) inGenerate() bool {
	return r.dirLine && strings.EqualFold(string(r.dirWord), "$GENERATE")
}

// Read implements io.Reader through ReadByte so that every byte is counted
// whichever way it is read.
func (r *lineReader) Read(p []byte) (int, error) {
	for i := range p {
		c, err := r.ReadByte()
		if err != nil {
			if i > 0 {
				return i, nil
			}
			return 0, err
		}
		p[i] = c
		if c == '\n' {
			return i + 1, nil
		}
	}
	return len(p), nil
}

// maxErrorText bounds how much of the rest of a line errorText reads.
const maxErrorText = 4096

// errorText returns the text of the record the lexer was reading when it
// stopped with an error: what it read since the previous record and the
// rest of the line it stopped on. directive is the lowercase name of the
// $ directive ("$ttl") when the lexer stopped on a directive line, or "".
// The input is not read further after an error, so reading on is harmless.
func (t *tracker) errorText() (text []byte, directive string) {
	r := t.cur
	if r == nil {
		return nil, ""
	}
	text = r.text
	if !r.eol {
		for len(text) < len(r.text)+maxErrorText {
			c, err := r.r.ReadByte()
			if err != nil || c == '\n' {
				break
			}
			text = append(text, c)
		}
	}
	if r.dirLine {
		directive = strings.ToLower(string(r.dirWord))
	}
	return text, directive
}
