// Package dnstap sends the queries the DNS server's tap copies, and their
// responses, to a dnstap collector as AUTH_QUERY and AUTH_RESPONSE
// messages over Frame Streams (a unix socket or TCP), reconnecting when
// the collector goes away (README.md, "dnstap").
//
// The messages wait for the collector in a bounded queue of their own:
// the library's socket output blocks its sender while the collector is
// away and says nothing of whether it is connected, so only its
// protocol (messages, Frame Streams writer) is used here. A full queue
// drops the message and counts it; nothing here ever waits for the
// collector but the goroutine that writes to it.
package dnstap

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	dt "github.com/dnstap/golang-dnstap"
	"google.golang.org/protobuf/proto"

	"github.com/stratusdns/stratus/internal/dnsserver"
)

// Options says where the messages go and what they say.
type Options struct {
	// Network is "unix" or "tcp"; Addr the socket's path or ip:port.
	Network, Addr string
	// Identity and Version are sent in every message.
	Identity, Version string
	// QueueSize bounds the messages waiting for the collector (default
	// 4096).
	QueueSize int
	// Queries and Responses say which messages are sent.
	Queries, Responses bool
	// RetryInterval is the first wait between attempts to connect
	// (default 1s); each failed attempt doubles it, up to MaxRetry
	// (default 30s). Timeout bounds a write to the collector (default
	// 5s).
	RetryInterval, MaxRetry, Timeout time.Duration
	// Log is told when the collector is connected, and when it is lost
	// or cannot be reached (once, not at every attempt).
	Log *slog.Logger
	// After is the clock the waits between attempts are timed by
	// (default time.After).
	After func(time.Duration) <-chan time.Time
}

// Output is a connection to a collector, kept up until Close.
type Output struct {
	opts   Options
	queue  chan []byte
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	frames, dropped atomic.Uint64
	connected       atomic.Bool

	// Reused by Tap: the envelope and message and their fields, the
	// identity and version as bytes.
	msg               dt.Dnstap
	m                 dt.Message
	addr              [16]byte
	port, qns, rns    uint32
	qs, rs            uint64
	identity, version []byte
}

// New starts connecting to the collector.
func New(o Options) *Output {
	if o.QueueSize <= 0 {
		o.QueueSize = 4096
	}
	if o.RetryInterval <= 0 {
		o.RetryInterval = time.Second
	}
	if o.MaxRetry <= 0 {
		o.MaxRetry = 30 * time.Second
	}
	o.MaxRetry = max(o.MaxRetry, o.RetryInterval)
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.After == nil {
		o.After = time.After
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &Output{opts: o, queue: make(chan []byte, o.QueueSize), ctx: ctx, cancel: cancel, done: make(chan struct{})}
	if o.Identity != "" {
		out.identity = []byte(o.Identity)
	}
	if o.Version != "" {
		out.version = []byte(o.Version)
	}
	go out.run()
	return out
}

// Frames returns the messages written to a collector; Dropped those
// lost (queue full, or the collector went away while they were sent);
// Connected whether a collector is connected now.
func (o *Output) Frames() uint64  { return o.frames.Load() }
func (o *Output) Dropped() uint64 { return o.dropped.Load() }
func (o *Output) Connected() bool { return o.connected.Load() }

var (
	msgAuthQuery    = dt.Message_AUTH_QUERY
	msgAuthResponse = dt.Message_AUTH_RESPONSE
	typeMessage     = dt.Dnstap_MESSAGE
	familyINET      = dt.SocketFamily_INET
	familyINET6     = dt.SocketFamily_INET6
	protoUDP        = dt.SocketProtocol_UDP
	protoTCP        = dt.SocketProtocol_TCP
)

// Tap queues the messages for the records dnstap wants. It never waits.
func (o *Output) Tap(batch []dnsserver.TapRecord) {
	for i := range batch {
		r := &batch[i]
		if !r.Dnstap {
			continue
		}
		if o.opts.Queries {
			o.send(o.encode(r, false))
		}
		if o.opts.Responses {
			o.send(o.encode(r, true))
		}
	}
}

func (o *Output) send(frame []byte) {
	if frame == nil {
		o.dropped.Add(1)
		return
	}
	select {
	case o.queue <- frame:
	default:
		o.dropped.Add(1)
	}
}

// encode makes the AUTH_QUERY (or AUTH_RESPONSE) message of r: the one
// allocation is the frame itself, which waits in the queue.
func (o *Output) encode(r *dnsserver.TapRecord, response bool) []byte {
	m := &o.m
	m.Reset()
	m.Type = &msgAuthQuery
	family := &familyINET
	a := r.Client.Addr()
	if a.Is6() {
		family = &familyINET6
		o.addr = a.As16()
		m.QueryAddress = o.addr[:]
	} else {
		a4 := a.As4()
		m.QueryAddress = o.addr[:copy(o.addr[:], a4[:])]
	}
	protocol := &protoUDP
	if r.TCP {
		protocol = &protoTCP
	}
	o.port = uint32(r.Client.Port())
	o.qs, o.qns = uint64(r.Received.Unix()), uint32(r.Received.Nanosecond())
	m.SocketFamily, m.SocketProtocol, m.QueryPort = family, protocol, &o.port
	m.QueryTimeSec, m.QueryTimeNsec = &o.qs, &o.qns
	if response {
		o.rs, o.rns = uint64(r.Answered.Unix()), uint32(r.Answered.Nanosecond())
		m.Type = &msgAuthResponse
		m.ResponseTimeSec, m.ResponseTimeNsec = &o.rs, &o.rns
		m.ResponseMessage = r.Response
	} else {
		m.QueryMessage = r.Query
	}
	d := &o.msg
	d.Reset()
	d.Type = &typeMessage
	d.Message = m
	d.Identity, d.Version = o.identity, o.version
	b, err := proto.Marshal(d)
	if err != nil {
		return nil
	}
	return b
}

// run keeps a connection to the collector and writes the queue to it.
// Failed attempts to connect are retried after a wait that doubles, from
// RetryInterval up to MaxRetry, and is reset by a connection; the log
// hears of changes only: connected (with what was dropped while there
// was no collector), lost or unreachable.
func (o *Output) run() {
	defer close(o.done)
	d := net.Dialer{Timeout: o.opts.Timeout}
	wait := o.opts.RetryInterval
	down := false                 // the log was told there is no collector
	droppedAt := o.dropped.Load() // the drop count when it was
	for {
		c, err := d.DialContext(o.ctx, o.opts.Network, o.opts.Addr)
		if err == nil {
			var w dt.Writer
			w, err = dt.NewWriter(c, &dt.WriterOptions{Bidirectional: true, Timeout: o.opts.Timeout})
			if err != nil {
				c.Close()
			} else {
				// Logged before it is marked: whoever sees the
				// connection can find the line.
				if down {
					o.opts.Log.Info("dnstap collector connected", "addr", o.opts.Addr, "dropped_meanwhile", o.dropped.Load()-droppedAt)
				} else {
					o.opts.Log.Info("dnstap collector connected", "addr", o.opts.Addr)
				}
				o.connected.Store(true)
				wait, down = o.opts.RetryInterval, false
				err = o.pump(w)
				o.connected.Store(false)
				w.Close() // the STOP frame, and the collector's FINISH
				c.Close()
				if o.ctx.Err() != nil {
					return
				}
				o.opts.Log.Warn("dnstap collector lost; reconnecting", "addr", o.opts.Addr, "err", err)
				down, droppedAt = true, o.dropped.Load()
			}
		}
		if o.ctx.Err() != nil {
			return
		}
		if !down {
			o.opts.Log.Warn("dnstap collector unreachable; retrying", "addr", o.opts.Addr, "err", err)
			down, droppedAt = true, o.dropped.Load()
		}
		select {
		case <-o.ctx.Done():
			return
		case <-o.opts.After(wait):
		}
		wait = min(2*wait, o.opts.MaxRetry)
	}
}

type flusher interface{ Flush() error }

// pump writes queued frames until a write fails or Close; the frames are
// flushed to the collector whenever the queue is empty, and counted as
// sent only once flushed (dropped when a write or flush fails).
func (o *Output) pump(w dt.Writer) error {
	f, _ := w.(flusher)
	var pending uint64 // written, not yet flushed
	flush := func() error {
		if f != nil {
			if err := f.Flush(); err != nil {
				o.dropped.Add(pending)
				pending = 0
				return err
			}
		}
		o.frames.Add(pending)
		pending = 0
		return nil
	}
	write := func(frame []byte) error {
		if _, err := w.WriteFrame(frame); err != nil {
			o.dropped.Add(pending + 1)
			pending = 0
			return err
		}
		pending++
		if len(o.queue) == 0 {
			return flush()
		}
		return nil
	}
	for {
		select {
		case frame := <-o.queue:
			if err := write(frame); err != nil {
				return err
			}
		case <-o.ctx.Done():
			for { // what was queued before Close
				select {
				case frame := <-o.queue:
					if err := write(frame); err != nil {
						return err
					}
				default:
					return flush()
				}
			}
		}
	}
}

// Close sends what is queued to a connected collector, ends the session
// and closes the connection. Call it after the last Tap.
func (o *Output) Close() error {
	o.cancel()
	<-o.done
	if n := len(o.queue); n > 0 {
		o.dropped.Add(uint64(n))
		return errors.New("dnstap: messages still queued at close: no collector")
	}
	return nil
}
