package dnstap

import (
	"net"
	"net/netip"
	"testing"

	dt "github.com/dnstap/golang-dnstap"
	"google.golang.org/protobuf/proto"
)

// TestEncodeAllocations: a message costs one allocation, the frame that
// waits in the queue; the rest (the message, its fields, the identity)
// is reused. The frames stay whole and distinct.
func TestEncodeAllocations(t *testing.T) {
	o := &Output{opts: Options{Identity: "ns1", Version: "stratus test"}, identity: []byte("ns1"), version: []byte("stratus test")}
	rec := record(t, "a.example.", false)
	if n := testing.AllocsPerRun(200, func() {
		o.encode(&rec, false)
		o.encode(&rec, true)
	}); n > 2 {
		t.Errorf("%v allocations for a query's two messages, budget 2", n)
	}
	v4 := record(t, "b.example.", true)
	v4.Client = netip.MustParseAddrPort("192.0.2.9:53")
	f6 := o.encode(&rec, true)
	f4 := o.encode(&v4, false)
	for _, c := range []struct {
		frame []byte
		addr  string
		typ   dt.Message_Type
	}{{f6, "2001:db8::5", dt.Message_AUTH_RESPONSE}, {f4, "192.0.2.9", dt.Message_AUTH_QUERY}} {
		var m dt.Dnstap
		if err := proto.Unmarshal(c.frame, &m); err != nil {
			t.Fatal(err)
		}
		if got := net.IP(m.Message.QueryAddress).String(); got != c.addr || m.Message.GetType() != c.typ || string(m.Identity) != "ns1" {
			t.Errorf("frame: address %s type %v identity %q, want %s %v ns1", got, m.Message.GetType(), m.Identity, c.addr, c.typ)
		}
	}
}
