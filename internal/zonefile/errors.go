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
		return p.errorAt(pos, "%s", p.parseErrorMessage(pe))
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

// parseErrorMessage says in plain words what miekg/dns found wrong, in the
// words the API uses for the same mistake (model.InvalidRdata, ParseName,
// ParseType). The file name, "dns: " prefix and position of miekg/dns's
// `[file: ]dns: <what>: "<token>" at line: <l>:<c>` are left out: the
// Field already says them. What it cannot map is kept as `<what>:
// "<token>"`, or just `<what>` when the token is blank.
func (p *parser) parseErrorMessage(pe *dns.ParseError) string {
	msg := pe.Error()
	if i := strings.Index(msg, "dns: "); i >= 0 {
		msg = msg[i+len("dns: "):]
	}
	if i := strings.LastIndex(msg, " at line: "); i >= 0 {
		msg = msg[:i]
	}
	what, quoted, tok := msg, "", ""
	if i := strings.LastIndex(msg, `: "`); i >= 0 {
		if t, err := strconv.Unquote(msg[i+2:]); err == nil {
			what, quoted, tok = msg[:i], msg[i+2:], t
		}
	}
	if strings.TrimSpace(tok) == "" {
		quoted, tok = "", ""
	}
	if what == "" {
		return "syntax error"
	}
	if m, ok := lexerErrors[tok]; ok {
		return m
	}
	text, directive := p.t.errorText()
	if directive != "" {
		if m := directiveError(directive, what, tok); m != "" {
			return m
		}
	}
	switch {
	case what == "bad owner name" && tok != "":
		if _, err := model.ParseName(tok); err != nil {
			return "invalid owner name: " + err.Error()
		}
		return fmt.Sprintf("invalid owner name %q", tok)
	case what == "not a TTL" && strings.HasPrefix(tok, "$"):
		return fmt.Sprintf("%s needs its value on the same line", strings.ToUpper(tok))
	case what == "not a TTL" && tok != "":
		if isLetter(tok[0]) {
			return fmt.Sprintf("%q is neither a TTL nor a known record type", tok)
		}
		return notTTL(tok)
	case (strings.HasPrefix(what, "expecting RR type") || what == "unknown RR type") && tok != "" && isLetter(tok[0]):
		if _, err := model.ParseType(tok); err != nil {
			return err.Error()
		}
	case what == "garbage after rdata" || strings.HasPrefix(what, "bad "):
		if quoted == "" {
			quoted = `""`
		}
		if t, data, ok := recordData(text); ok &&
			(what == "garbage after rdata" || strings.HasPrefix(what, "bad "+model.TypeString(t)+" ") || strings.HasPrefix(what, "bad RFC3597 ")) {
			if data == "" {
				data = tok
			}
			return model.InvalidRdata(t, data, what+": "+quoted).Error()
		}
	}
	if quoted == "" {
		return what
	}
	return what + ": " + quoted
}

// lexerErrors are the errors the miekg/dns lexer reports in place of the
// token it could not read.
var lexerErrors = map[string]string{
	"unbalanced brace":    "an opening parenthesis is not closed",
	"extra closing brace": "a closing parenthesis has no opening one",
	"unknown class":       "unknown class (a zone holds only class IN)",
	"unknown RR type":     "unknown record type",
}

// directiveError words a miekg/dns error on a $TTL, $ORIGIN or $INCLUDE
// line, or returns "".
func directiveError(directive, what, tok string) string {
	dir := strings.ToUpper(directive)
	switch {
	case what == "garbage after rdata" && tok != "":
		return fmt.Sprintf("unexpected %q after the value of %s", tok, dir)
	case what == "garbage after $INCLUDE" && tok != "":
		return fmt.Sprintf("unexpected %q after the file name and origin of $INCLUDE", tok)
	case strings.HasPrefix(what, "no blank after $"), strings.HasPrefix(what, "expecting $"):
		switch dir {
		case "$TTL":
			if tok != "" {
				return "$TTL: " + notTTL(tok)
			}
			return "$TTL needs a TTL (seconds, or units such as 1h30m)"
		case "$ORIGIN":
			return "$ORIGIN needs a domain name"
		case "$INCLUDE":
			return "$INCLUDE needs a file name"
		}
	case what == "bad range in $GENERATE range" && tok != "":
		return fmt.Sprintf("$GENERATE range %q: the stop must not be below the start, and one range makes at most %d records", tok, MaxGenerateRange)
	case what == "bad origin name" && tok != "":
		if _, err := model.ParseName(tok); err != nil {
			return fmt.Sprintf("invalid origin in %s: %v", dir, err)
		}
		return fmt.Sprintf("invalid origin %q in %s", tok, dir)
	}
	return ""
}

// notTTL says that tok is not a TTL.
func notTTL(tok string) string {
	return fmt.Sprintf("%q is not a TTL (seconds, or units such as 1h30m)", tok)
}

// recordData finds, in the text of one record as the lexer read it (with
// comment lines and directives before it, perhaps over several lines in
// parentheses), the record's type and its data, tokens joined by one
// space. ok is false when there is no type to find.
func recordData(text []byte) (t model.Type, data string, ok bool) {
	toks, ownerless := recordTokens(text)
	i := 0
	if !ownerless {
		i = 1
	}
	for ; i < len(toks); i++ {
		tok := toks[i]
		up := strings.ToUpper(tok)
		if _, class := dns.StringToClass[up]; class || strings.HasPrefix(up, "CLASS") || tok[0] >= '0' && tok[0] <= '9' {
			continue
		}
		t, err := model.ParseType(tok)
		if err != nil {
			return 0, "", false
		}
		return t, strings.TrimSpace(strings.Join(toks[i+1:], " ")), true
	}
	return 0, "", false
}

// recordTokens splits the text of a record into its tokens, quoted
// strings kept whole with their quotes, leaving out comments, parentheses
// and the blank, comment and directive lines before the record. ownerless
// is true when the record's first line starts with a blank (no owner).
func recordTokens(text []byte) (toks []string, ownerless bool) {
	var (
		cur                    []byte
		started, indented, bol = false, false, true
		quote, esc, skip       bool
		depth                  int
	)
	flush := func() {
		if len(cur) > 0 {
			toks = append(toks, string(cur))
			cur = cur[:0]
		}
	}
	begin := func() {
		if !started {
			started, ownerless = true, indented
		}
	}
	for _, c := range text {
		if c == '\n' {
			if quote {
				cur = append(cur, c)
				continue
			}
			flush()
			bol, skip, indented = true, false, false
			continue
		}
		first := bol
		bol = false
		switch {
		case skip:
		case quote:
			cur = append(cur, c)
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				quote = false
			}
		case c == '$' && first && !started:
			skip = true // a directive line
		case c == ' ' || c == '\t' || c == '\r':
			if first {
				indented = true
			}
			flush()
		case c == ';':
			flush()
			skip = true
		case c == '(':
			flush()
			begin()
			depth++
		case c == ')':
			flush()
			depth--
		case c == '"':
			begin()
			cur = append(cur, c)
			quote = true
		default:
			begin()
			cur = append(cur, c)
		}
	}
	flush()
	return toks, ownerless
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
