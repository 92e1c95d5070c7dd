package zonefile

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/model"
)

// errorAt returns a *model.Error for the line at p.
func (p *parser) errorAt(pos position, format string, args ...any) error {
	return model.Errorf(p.t.field(pos), format, args...)
}

// syntaxError converts an error from the miekg/dns parser into a
// *model.Error at the line the lexer stopped on.
func (p *parser) syntaxError(err error) error {
	pos := p.t.errorPos(parseErrorPlace(err))
	if errors.Is(err, errIncludeRefused) {
		return p.errorAt(pos, "%v", errIncludeRefused)
	}
	var ie *includeError
	if errors.As(err, &ie) {
		return p.errorAt(pos, "%s", ie.msg)
	}
	var pe *dns.ParseError
	if errors.As(err, &pe) {
		return p.errorAt(pos, "%s", parseErrorMessage(pe))
	}
	return p.errorAt(pos, "reading the zone file: %v", err)
}

// parseErrorPlace extracts the file and line miekg/dns reports in a
// ParseError: `[file: ]dns: ... at line: <l>:<c>`. The line is 0 when
// there is none.
func parseErrorPlace(err error) (file string, line int) {
	var pe *dns.ParseError
	if !errors.As(err, &pe) {
		return "", 0
	}
	msg := pe.Error()
	i := strings.LastIndex(msg, " at line: ")
	if i < 0 {
		return "", 0
	}
	lc, _, _ := strings.Cut(msg[i+len(" at line: "):], ":")
	line, err = strconv.Atoi(lc)
	if err != nil {
		return "", 0
	}
	if j := strings.Index(msg, "dns: "); j >= 2 {
		file = msg[:j-2]
	}
	return file, line
}

// parseErrorMessage renders a miekg/dns ParseError without its file name,
// "dns: " prefix and position suffix, which the Field already says:
// `[file: ]dns: <what>: "<token>" at line: <l>:<c>` becomes
// `<what>: "<token>"`, or just `<what>` when the token is blank.
func parseErrorMessage(pe *dns.ParseError) string {
	msg := pe.Error()
	if i := strings.Index(msg, "dns: "); i >= 0 {
		msg = msg[i+len("dns: "):]
	}
	if i := strings.LastIndex(msg, " at line: "); i >= 0 {
		msg = msg[:i]
	}
	if i := strings.LastIndex(msg, `: "`); i >= 0 {
		if tok, err := strconv.Unquote(msg[i+2:]); err == nil && strings.TrimSpace(tok) == "" {
			msg = msg[:i]
		}
	}
	if msg == "" {
		return "syntax error"
	}
	return clarify(msg)
}

// clarify rewords miekg/dns messages that point the wrong way for the
// most common mistake, a misspelt or unsupported record type: miekg/dns
// then complains about the TTL or class it took the word for.
func clarify(msg string) string {
	what, quoted, ok := strings.Cut(msg, `: "`)
	if !ok {
		return msg
	}
	tok, err := strconv.Unquote(`"` + quoted)
	if err != nil || tok == "" || !isLetter(tok[0]) {
		return msg
	}
	switch {
	case what == "not a TTL":
		return fmt.Sprintf("%q is neither a TTL nor a known record type", tok)
	case strings.HasPrefix(what, "expecting RR type"), what == "unknown RR type":
		return fmt.Sprintf("unknown record type %q", tok)
	}
	return msg
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
