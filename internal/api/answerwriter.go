package api

import "net/http"

// answerWriter is the writer every request is served with: it notes the
// status code of the answer (200 when the handler wrote none), which the
// request metrics count, and whether the answer has begun, after which a
// handler's panic can only cut the connection (recoverPanic).
type answerWriter struct {
	http.ResponseWriter
	code  int
	begun bool
}

func (w *answerWriter) WriteHeader(code int) {
	if !w.begun {
		w.code, w.begun = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *answerWriter) Write(b []byte) (int, error) {
	w.begun = true
	return w.ResponseWriter.Write(b)
}

// Flush lets streamed responses (zone file export) reach the client.
func (w *answerWriter) Flush() {
	w.begun = true
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the writer underneath (deadlines).
func (w *answerWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
