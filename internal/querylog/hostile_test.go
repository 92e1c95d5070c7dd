package querylog

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"net"
	"os"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/miekg/dns"
)

// hostileQuery is a query for a name whose labels hold the bytes of
// labels, uncompressed, type A class IN.
func hostileQuery(id uint16, labels ...[]byte) []byte {
	b := make([]byte, 12, 512)
	binary.BigEndian.PutUint16(b, id)
	b[5] = 1 // QDCOUNT
	for _, l := range labels {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0, 0, 1, 0, 1)
}

// TestHostileNamesThroughServer: whatever bytes a client puts in its
// question's labels (every byte value, quotes, backslashes, control
// characters, invalid UTF-8), each line the server logs is one valid
// JSON object in valid UTF-8, and its qname reads back to the name sent.
func TestHostileNamesThroughServer(t *testing.T) {
	var all []byte
	for c := range 256 {
		all = append(all, byte(c))
	}
	names := [][][]byte{
		{all[0:63], all[63:126], all[126:189], all[189:250]},
		{all[250:256], []byte("example"), []byte("com")},
		{[]byte(`"},"client":"1.2.3.4`), []byte("example"), []byte("com")},
		{[]byte("a\\\"b\n\r\t\x00\x7f\xff\xfe\xc3"), []byte("example"), []byte("com")},
		{[]byte("\xed\xa0\x80\xf4\x90\x80\x80"), []byte("com")}, // surrogate, above U+10FFFF
		{[]byte("a.b"), []byte("@$;()"), []byte("com")},
	}
	s, _, path, stop := logServer(t, Options{}, 0)
	c, err := net.Dial("udp", s.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 4096)
	for i, n := range names {
		if _, err := c.Write(hostileQuery(uint16(i), n...)); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(buf); err != nil {
			t.Fatal(err)
		}
	}
	stop()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	i := 0
	for ; sc.Scan(); i++ {
		line := sc.Bytes()
		if !utf8.Valid(line) {
			t.Errorf("line %d is not UTF-8: %q", i, line)
		}
		var v struct {
			Qname  string `json:"qname"`
			Client string `json:"client"`
		}
		if err := json.Unmarshal(line, &v); err != nil {
			t.Fatalf("line %d %q: %v", i, line, err)
		}
		if v.Client != "127.0.0.1" {
			t.Errorf("line %d: client %q", i, v.Client)
		}
		want := hostileQuery(0, names[i]...)[12:]
		want = want[:len(want)-4]
		got := make([]byte, 256)
		n, err := dns.PackDomainName(v.Qname, got, 0, nil, false)
		if err != nil || !bytes.Equal(got[:n], want) {
			t.Errorf("line %d: qname %q reads back as %q (%v), sent %q", i, v.Qname, got[:n], err, want)
		}
	}
	if i != len(names) {
		t.Errorf("%d lines, want %d", i, len(names))
	}
}
