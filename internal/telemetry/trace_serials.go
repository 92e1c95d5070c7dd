package telemetry

import (
	"context"
	"sync"

	"go.opentelemetry.io/otel/trace"
)

// The NOTIFY for a new serial is sent later and elsewhere than the write
// that made it: by the leader's notifier, notify_delay after the
// publisher serves the serial, on a goroutine of its own. To put its span
// in the write's trace, the write notes its span context under the zone
// and serial it committed (NoteSerial), and the notifier looks it up
// (SerialSpan). The table is bounded: the oldest entries go first, and a
// NOTIFY whose write is not found (evicted, made on another node, or
// before tracing started) starts a trace of its own.

// MaxNotedSerials bounds the table of serials' span contexts.
const MaxNotedSerials = 1024

type serialKey struct {
	zone   string
	serial uint32
}

var serials = struct {
	sync.Mutex
	m    map[serialKey]trace.SpanContext
	ring [MaxNotedSerials]serialKey
	next int
}{m: map[serialKey]trace.SpanContext{}}

// NoteSerial records ctx's span as the one that made serial of zone. It
// does nothing while tracing is off or ctx's span is not sampled.
func NoteSerial(ctx context.Context, zone string, serial uint32) {
	if !Tracing() {
		return
	}
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() || !sc.IsSampled() {
		return
	}
	k := serialKey{zone, serial}
	serials.Lock()
	defer serials.Unlock()
	if _, ok := serials.m[k]; !ok {
		if old := serials.ring[serials.next]; old != (serialKey{}) {
			delete(serials.m, old)
		}
		serials.ring[serials.next] = k
		serials.next = (serials.next + 1) % MaxNotedSerials
	}
	serials.m[k] = sc
}

// SerialSpan returns the span context NoteSerial recorded for serial of
// zone.
func SerialSpan(zone string, serial uint32) (trace.SpanContext, bool) {
	if !Tracing() {
		return trace.SpanContext{}, false
	}
	serials.Lock()
	defer serials.Unlock()
	sc, ok := serials.m[serialKey{zone, serial}]
	return sc, ok
}
