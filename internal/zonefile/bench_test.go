package zonefile_test

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/stratusdns/stratus/internal/zonefile"
)

// generatedZone returns a zone file of about n records in the shape of a
// real zone: hosts with A and AAAA records, some TXT, MX and CNAME.
func generatedZone(n int) []byte {
	var b bytes.Buffer
	b.WriteString("$ORIGIN example.com.\n$TTL 3600\n")
	b.WriteString("@ SOA ns1 hostmaster 2024010101 7200 3600 1209600 300\n@ NS ns1\n@ NS ns2\nns1 A 192.0.2.1\nns2 A 192.0.2.2\n")
	for i := 0; b.Len() > 0 && i < (n-5)/5; i++ {
		fmt.Fprintf(&b, "host%d\tIN\tA\t10.%d.%d.%d\n", i, i>>16&255, i>>8&255, i&255)
		fmt.Fprintf(&b, "\tIN\tAAAA\t2001:db8::%x:%x\n", i>>16, i&0xffff)
		fmt.Fprintf(&b, "\t300\tIN\tTXT\t\"record number %d\" \"v=spf1 -all\"\n", i)
		fmt.Fprintf(&b, "svc%d\tIN\tMX\t10 host%d\n", i, i)
		fmt.Fprintf(&b, "www%d\tIN\tCNAME\thost%d\n", i, i)
	}
	return b.Bytes()
}

func benchmarkParse(b *testing.B, records int) {
	zone := generatedZone(records)
	sets, err := zonefile.Parse(bytes.NewReader(zone), zonefile.ParseOptions{Origin: origin})
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, s := range sets {
		n += len(s.Rdata)
	}
	b.SetBytes(int64(len(zone)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := zonefile.Parse(bytes.NewReader(zone), zonefile.ParseOptions{Origin: origin}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkParse parses a generated zone of 100,000 records.
func BenchmarkParse(b *testing.B) { benchmarkParse(b, 100_000) }

// BenchmarkParseMillion parses a generated zone of 1,000,000 records.
func BenchmarkParseMillion(b *testing.B) { benchmarkParse(b, 1_000_000) }

// BenchmarkWrite exports a zone of 100,000 records.
func BenchmarkWrite(b *testing.B) {
	sets, err := zonefile.Parse(bytes.NewReader(generatedZone(100_000)), zonefile.ParseOptions{Origin: origin})
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, s := range sets {
		n += len(s.Rdata)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := zonefile.Write(io.Discard, origin, sets); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
