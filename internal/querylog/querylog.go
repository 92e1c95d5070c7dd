// Package querylog writes the query log: one line of JSON per answered
// query the DNS server's tap sampled (README.md, "Query log"). It runs on
// the tap's writer goroutine, never on a reader's.
package querylog

import (
	"bufio"
	"io"
	"net/netip"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/dnsserver"
)

// Options says where the log goes and what it shows.
type Options struct {
	// Output is a file path, or "stdout".
	Output string
	// MaxSize rotates the file before it passes this many octets (0:
	// never); MaxBackups rotated files are kept (0: all); rotated files
	// older than MaxAge are removed (0: none for age).
	MaxSize    int64
	MaxBackups int
	MaxAge     time.Duration
	// Anonymize cuts client addresses (and ECS networks) to IPv4Prefix
	// and IPv6Prefix bits, and leaves ports out.
	Anonymize              bool
	IPv4Prefix, IPv6Prefix int
	// Now is the clock rotated files are named and aged by (default
	// time.Now).
	Now func() time.Time
}

// Log is an open query log. Write and Close are called from one
// goroutine; Entries and Failed from any.
type Log struct {
	opts Options
	out  io.Writer
	file *rotatingFile // nil for stdout
	w    *bufio.Writer
	line []byte

	entries, failed atomic.Uint64
}

// Open opens the log's output.
func Open(o Options) (*Log, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	l := &Log{opts: o, line: make([]byte, 0, 512)}
	if o.Output == "" || o.Output == "stdout" {
		l.out = os.Stdout
	} else {
		f, err := openRotating(o.Output, o.MaxSize, o.MaxBackups, o.MaxAge, o.Now)
		if err != nil {
			return nil, err
		}
		l.file, l.out = f, f
	}
	l.w = bufio.NewWriterSize(l.out, 64<<10)
	return l, nil
}

// Tap writes a line for each record the log sampled and flushes: a
// batch reaches the file as it is handed over.
func (l *Log) Tap(batch []dnsserver.TapRecord) {
	if l.file != nil {
		l.file.reopenIfMoved()
	}
	var n uint64
	for i := range batch {
		r := &batch[i]
		if !r.Log {
			continue
		}
		l.line = l.appendEntry(l.line[:0], r)
		if _, err := l.w.Write(l.line); err != nil {
			l.failed.Add(1)
			continue
		}
		n++
	}
	if err := l.w.Flush(); err != nil {
		// What the buffer held is lost; a new buffer starts clean.
		l.failed.Add(n)
		l.w = bufio.NewWriterSize(l.out, 64<<10)
		return
	}
	l.entries.Add(n)
}

// Entries returns the lines written; Failed the lines lost to write
// errors.
func (l *Log) Entries() uint64 { return l.entries.Load() }
func (l *Log) Failed() uint64  { return l.failed.Load() }

// Close flushes and closes the file.
func (l *Log) Close() error {
	err := l.w.Flush()
	if l.file != nil {
		if cerr := l.file.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// timeLayout is RFC 3339 with nanoseconds, always nine digits.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// appendEntry appends one line: see README.md for the fields.
func (l *Log) appendEntry(b []byte, r *dnsserver.TapRecord) []byte {
	b = append(b, `{"time":"`...)
	b = r.Received.UTC().AppendFormat(b, timeLayout)
	b = append(b, `","client":"`...)
	client := r.Client.Addr()
	if l.opts.Anonymize {
		client = l.cut(client, 128)
	}
	b = client.AppendTo(b)
	b = append(b, '"')
	if !l.opts.Anonymize {
		b = append(b, `,"port":`...)
		b = strconv.AppendUint(b, uint64(r.Client.Port()), 10)
	}
	b = append(b, `,"transport":"`...)
	if r.TCP {
		b = append(b, "tcp"...)
	} else {
		b = append(b, "udp"...)
	}
	b = append(b, '"')
	if len(r.Qname) > 0 { // none when the query had no question
		b = append(b, `,"qname":"`...)
		b = appendName(b, r.Qname)
		b = append(b, `","qtype":"`...)
		b = appendMnemonic(b, dns.TypeToString, "TYPE", r.Qtype)
		b = append(b, `","class":"`...)
		b = appendMnemonic(b, dns.ClassToString, "CLASS", r.Qclass)
		b = append(b, '"')
	}
	b = append(b, `,"rcode":"`...)
	if r.Rcode == dns.RcodeBadVers {
		// 16 is BADSIG in a TSIG record, BADVERS in an OPT one: a
		// response's rcode is the latter (RcodeToString says BADSIG).
		b = append(b, "BADVERS"...)
	} else if s, ok := dns.RcodeToString[int(r.Rcode)]; ok {
		b = append(b, s...)
	} else {
		b = strconv.AppendUint(b, uint64(r.Rcode), 10)
	}
	b = append(b, `","aa":`...)
	b = strconv.AppendBool(b, r.AA)
	b = append(b, `,"tc":`...)
	b = strconv.AppendBool(b, r.TC)
	if r.Zone != "" {
		b = append(b, `,"zone":`...)
		b = appendJSONString(b, r.Zone)
	}
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, int64(r.Size), 10)
	if r.ECS {
		src := int(r.ECSSource)
		if l.opts.Anonymize {
			src = min(src, l.prefix(r.ECSAddr))
		}
		ecs, err := r.ECSAddr.Prefix(min(src, r.ECSAddr.BitLen()))
		if err != nil {
			ecs = netip.PrefixFrom(r.ECSAddr, 0)
		}
		b = append(b, `,"ecs":"`...)
		b = ecs.AppendTo(b)
		b = append(b, `","ecs_scope":`...)
		b = strconv.AppendUint(b, uint64(r.ECSScope), 10)
	}
	return append(b, "}\n"...)
}

// prefix returns the length an address of a's family is cut to.
func (l *Log) prefix(a netip.Addr) int {
	if a.Is4() {
		return l.opts.IPv4Prefix
	}
	return l.opts.IPv6Prefix
}

// cut keeps the first min(prefix, limit) bits of a.
func (l *Log) cut(a netip.Addr, limit int) netip.Addr {
	if !a.IsValid() {
		return a
	}
	p, err := a.Prefix(min(l.prefix(a), limit, a.BitLen()))
	if err != nil {
		return a
	}
	return p.Addr()
}

func appendMnemonic(b []byte, names map[uint16]string, unknown string, v uint16) []byte {
	if s, ok := names[v]; ok {
		return append(b, s...)
	}
	b = append(b, unknown...)
	return strconv.AppendUint(b, uint64(v), 10)
}

// appendName appends a wire-format name in presentation format, escaped
// for a JSON string: letters, digits and most punctuation as they are,
// the characters that mean something in a zone file as \c, and the rest
// as \DDD (RFC 1035 section 5.1), each backslash doubled for JSON.
func appendName(b []byte, name []byte) []byte {
	if len(name) <= 1 {
		return append(b, '.')
	}
	for len(name) > 0 {
		n := int(name[0])
		if n == 0 || n+1 > len(name) {
			break
		}
		for _, c := range name[1 : 1+n] {
			switch {
			case c == '.' || c == '\\' || c == '"' || c == ';' || c == '(' || c == ')' || c == '@' || c == '$':
				b = append(b, '\\', '\\') // the escape, escaped for JSON
				if c == '"' || c == '\\' {
					b = append(b, '\\') // the character, escaped for JSON
				}
				b = append(b, c)
			case c > ' ' && c < 0x7f:
				b = append(b, c)
			default:
				b = append(b, '\\', '\\', '0'+c/100, '0'+c/10%10, '0'+c%10)
			}
		}
		b = append(b, '.')
		name = name[1+n:]
	}
	return b
}

// appendJSONString appends s quoted as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < ' ':
			b = append(b, `\u00`...)
			b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
