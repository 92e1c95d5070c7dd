package api

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
)

// RequestIDHeader carries a request's id: the client's when it sent a
// sane one, else one the API made; the response echoes it.
const RequestIDHeader = "X-Request-Id"

// maxRequestIDLen bounds a client's request id.
const maxRequestIDLen = 128

// requestID returns the request id of r: its X-Request-Id when that is 1
// to 128 visible ASCII characters, else a new random one.
func requestID(r *http.Request) string {
	if v := r.Header.Get(RequestIDHeader); saneRequestID(v) {
		return v
	}
	return rand.Text()
}

func saneRequestID(v string) bool {
	if v == "" || len(v) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x21 || v[i] > 0x7e {
			return false
		}
	}
	return true
}

// logAttrsKey holds the attributes every log line about a request
// carries.
type logAttrsKey struct{}

// withLogAttrs returns ctx with attrs added to the attributes of the log
// lines written with it.
func withLogAttrs(ctx context.Context, attrs ...slog.Attr) context.Context {
	old, _ := ctx.Value(logAttrsKey{}).([]slog.Attr)
	return context.WithValue(ctx, logAttrsKey{}, append(old[:len(old):len(old)], attrs...))
}

// ContextLogHandler returns a handler that adds to each record the
// attributes of the request its context belongs to (remote address,
// request id, client certificate), so that every line logged with a
// request's context names the request. It returns h itself when h does
// that already.
func ContextLogHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(contextLogHandler); ok {
		return h
	}
	return contextLogHandler{h}
}

type contextLogHandler struct{ slog.Handler }

func (h contextLogHandler) Handle(ctx context.Context, r slog.Record) error {
	if attrs, _ := ctx.Value(logAttrsKey{}).([]slog.Attr); len(attrs) > 0 {
		r = r.Clone()
		r.AddAttrs(attrs...)
	}
	return h.Handler.Handle(ctx, r)
}

func (h contextLogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextLogHandler{h.Handler.WithAttrs(attrs)}
}

func (h contextLogHandler) WithGroup(name string) slog.Handler {
	return contextLogHandler{h.Handler.WithGroup(name)}
}
