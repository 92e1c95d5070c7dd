// Package drill runs failover drills: it reads a scenario (the services
// under test, the nameservers to watch, the client locations to emulate,
// the faults to inject and what must happen, and the SLOs), injects each
// fault through the health view, measures every nameserver's answers from
// outside, and reports whether the SLOs held.
//
// plane.go is its port to the control plane (Plane, Keeper), which the
// CLI implements with the API client and the server in-process; the
// package depends on neither. scenario.go reads and checks scenario
// files; probe.go watches the nameservers from outside, as each client
// would ask them; evaluate.go turns what was seen into each step's
// outcome and the SLO verdicts.
package drill
