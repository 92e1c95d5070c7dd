package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// The zone every workload uses: the apex (SOA, NS), ns1, and names h0 …
// h<n-1> with an A record each; every
// extraEvery-th of them also has AAAA, TXT and MX, so that queries for
// other types find something.
const (
	zoneName   = "bench.test."
	extraEvery = 100
	queryLines = 100000 // lines of the static query file (dnsperf loops over it)
)

// hostAddr is the A record of h<i>.
func hostAddr(i int) string {
	return fmt.Sprintf("10.%d.%d.%d", (i>>16)&255, (i>>8)&255, i&255)
}

// writeZone writes the zone with n host names to path; extra is appended as it is (a server's steered records).
func writeZone(path string, n int, extra string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintf(w, "$ORIGIN %s\n$TTL 300\n", zoneName)
	fmt.Fprintf(w, "@ 3600 IN SOA ns1 hostmaster 1 3600 600 1209600 60\n")
	fmt.Fprintf(w, "@ 3600 IN NS ns1\nns1 IN A 192.0.2.53\n")
	for i := range n {
		fmt.Fprintf(w, "h%d IN A %s\n", i, hostAddr(i))
		if i%extraEvery == 0 {
			fmt.Fprintf(w, "h%d IN AAAA 2001:db8::%x:%x\n", i, i>>16, i&0xffff)
			fmt.Fprintf(w, "h%d IN TXT \"bench %d\"\n", i, i)
			fmt.Fprintf(w, "h%d IN MX 10 ns1\n", i)
		}
	}
	w.WriteString(extra)
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeStatic writes the zone of n hosts and the static query mix for it
// into dir, as name.zone and name.queries, and returns their paths.
func writeStatic(dir, name string, n int) (zone, queries string, err error) {
	zone, queries = filepath.Join(dir, name+".zone"), filepath.Join(dir, name+".queries")
	if err := writeZone(zone, n, ""); err != nil {
		return "", "", err
	}
	return zone, queries, writeStaticQueries(queries, n)
}

// writeStaticQueries writes the static query mix for a zone of n hosts:
// 80% A at existing names, 10% A at names that do not exist (NXDOMAIN),
// 10% other types: AAAA, TXT and MX where they exist, AAAA and TXT where
// they do not (NODATA). The order is shuffled with a fixed seed.
func writeStaticQueries(path string, n int) error {
	r := rand.New(rand.NewPCG(1, 2))
	hosts := n
	extras := (hosts + extraEvery - 1) / extraEvery
	lines := make([]string, 0, queryLines)
	for i := range queryLines {
		switch {
		case i%10 < 8:
			lines = append(lines, fmt.Sprintf("h%d.%s A", r.IntN(hosts), zoneName))
		case i%10 == 8:
			lines = append(lines, fmt.Sprintf("nx%d.%s A", r.IntN(1<<30), zoneName))
		default:
			ex := r.IntN(extras) * extraEvery
			plain := r.IntN(hosts)
			if plain%extraEvery == 0 {
				plain++
			}
			switch (i / 10) % 5 {
			case 0:
				lines = append(lines, fmt.Sprintf("h%d.%s AAAA", ex, zoneName))
			case 1:
				lines = append(lines, fmt.Sprintf("h%d.%s TXT", ex, zoneName))
			case 2:
				lines = append(lines, fmt.Sprintf("h%d.%s MX", ex, zoneName))
			case 3:
				lines = append(lines, fmt.Sprintf("h%d.%s AAAA", plain, zoneName))
			default:
				lines = append(lines, fmt.Sprintf("h%d.%s TXT", plain, zoneName))
			}
		}
	}
	r.Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
	return writeLines(path, lines)
}

// writeSteeredQueries writes the steered-only mix: A queries for the
// failover and the weighted name, alternating.
func writeSteeredQueries(path string) error {
	var lines []string
	for range 500 {
		lines = append(lines, failoverName+" A", weightedName+" A")
	}
	return writeLines(path, lines)
}

func writeLines(path string, lines []string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, l := range lines {
		w.WriteString(l)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
