package e2e

import (
	"reflect"
	"strings"
	"testing"
)

// TestDNSParseOutput checks the dig and kdig output parsers on captured
// output, so that a parser mistake is not mistaken for a server bug.
func TestDNSParseOutput(t *testing.T) {
	const digOut = `;; Got answer:
;; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN, id: 5397
;; flags: qr aa rd; QUERY: 1, ANSWER: 1, AUTHORITY: 1, ADDITIONAL: 2
;; WARNING: recursion requested but not available

;; OPT PSEUDOSECTION:
; EDNS: version: 0, flags: do; udp: 1232
;; QUESTION SECTION:
;Dangling.example.com.		IN	A

;; ANSWER SECTION:
Dangling.example.com.	300	IN	CNAME	nothere.example.com.

;; AUTHORITY SECTION:
example.com.		300	IN	SOA	ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300

;; ADDITIONAL SECTION:
ns1.example.com.	3600	IN	A	192.0.2.53

;; Query time: 0 msec
;; SERVER: 127.0.0.1#15353(127.0.0.1) (UDP)
;; MSG SIZE  rcvd: 111
`
	const kdigOut = `;; ->>HEADER<<- opcode: QUERY; status: NOTIMPL; id: 4821
;; Flags: qr; QUERY: 1; ANSWER: 0; AUTHORITY: 0; ADDITIONAL: 0

;; QUESTION SECTION:
;; example.com.        		IN	SOA
;; DEBUG: Querying for owner(www.example.com.), class(1), type(1), reused connection
;; ->>HEADER<<- opcode: QUERY; status: NXDOMAIN; id: 4821
;; Flags: qr aa; QUERY: 1; ANSWER: 1; AUTHORITY: 1; ADDITIONAL: 1

;; EDNS PSEUDOSECTION:
;; Version: 0; flags: ; UDP size: 1232 B; ext-rcode: NOERROR

;; QUESTION SECTION:
;; dangling.example.com.		IN	A

;; ANSWER SECTION:
dangling.example.com.	300	IN	CNAME	nothere.example.com.

;; AUTHORITY SECTION:
example.com.        	300	IN	SOA	ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300

;; Received 111 B
;; Time 2026-11-26 01:00:14 UTC
;; From 127.0.0.1@15353(TCP) in 0.4 ms
`
	got, err := parseDig(digOut)
	if err != nil {
		t.Fatal(err)
	}
	want := []*dnsMsg{{
		Opcode: "QUERY", Rcode: "NXDOMAIN", Flags: "aa qr rd", Counts: [4]int{1, 1, 1, 2},
		Question:   []string{"Dangling.example.com. IN A"},
		Answer:     []string{"Dangling.example.com. 300 IN CNAME nothere.example.com."},
		Authority:  []string{"example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300"},
		Additional: []string{"ns1.example.com. 3600 IN A 192.0.2.53"},
		OPT:        "OPT version=0 udp=1232 flags=do",
		Transport:  "UDP", Size: 111,
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseDig:\n got %+v\nwant %+v", got[0], want[0])
	}

	got, err = parseKdig(kdigOut)
	if err != nil {
		t.Fatal(err)
	}
	want = []*dnsMsg{{
		Opcode: "QUERY", Rcode: "NOTIMP", Flags: "qr", Counts: [4]int{1, 0, 0, 0},
		Question: []string{"example.com. IN SOA"},
	}, {
		Opcode: "QUERY", Rcode: "NXDOMAIN", Flags: "aa qr", Counts: [4]int{1, 1, 1, 1},
		Question:  []string{"dangling.example.com. IN A"},
		Answer:    []string{"dangling.example.com. 300 IN CNAME nothere.example.com."},
		Authority: []string{"example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300"},
		OPT:       dnsOPTv0,
		Transport: "TCP", Size: 111,
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseKdig:\n got %+v %+v\nwant %+v %+v", got[0], got[len(got)-1], want[0], want[1])
	}

	// Output that disagrees with its header counts, or records printed
	// without section titles (+noall +answer), is an error, not an
	// empty answer.
	for name, bad := range map[string]string{
		"count mismatch": strings.Replace(digOut, "ANSWER: 1,", "ANSWER: 2,", 1),
		"no sections":    strings.Replace(digOut, ";; ANSWER SECTION:\n", "", 1),
	} {
		if _, err := parseDig(bad); err == nil {
			t.Errorf("parseDig accepted output with a %s", name)
		}
	}
}
