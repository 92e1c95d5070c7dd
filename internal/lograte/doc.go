// Package lograte bounds the log lines that traffic from outside can
// cause. A Limiter lets through at most Burst lines of each kind (the
// message of the line) in each Interval, counts the lines it drops, and
// writes one line saying how many it suppressed before the next line of
// that kind it lets through (or at Flush). A flood of spoofed packets
// thus costs a few lines per interval, never a line per packet, and the
// operator still learns that it happened and how large it was.
//
// Use it for lines that a request can trigger (refusals, failed
// signatures, connections turned away); lines of the server's own doing
// go to the logger as they are.
package lograte
