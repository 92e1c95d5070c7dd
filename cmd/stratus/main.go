// Command stratus is the Stratus authoritative DNS server (`stratus serve`)
// and the command-line client of its API (`stratus zone ...`, `stratus
// record ...`, `stratus token ...`).
//
// This package holds flags, subcommands and wiring only; the work is done in
// internal/server (serving) and pkg/client (talking to the API).
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
