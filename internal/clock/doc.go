// Package clock is the time the control plane runs on: the current time
// and timers, behind an interface, so that tests step time instead of
// sleeping.
//
// Real is the system's clock. Fake moves only when a test steps it: its
// timers fire then, and only then, and it says which timers are armed
// and for when, so a test can wait until the code under test is waiting
// for time before it steps. Health checks, the steering controller, the
// NOTIFY sender and secondary zone refreshes all take a Clock.
package clock
