package server

import (
	"io"
	"log/slog"

	"github.com/stratusdns/stratus/internal/api"
	"github.com/stratusdns/stratus/internal/config"
)

// NewLogger builds the process logger from the log section of the config.
func NewLogger(w io.Writer, c config.Log) *slog.Logger {
	var level slog.Level
	switch c.Level {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if c.Format == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	// Lines logged with an API request's context name the request.
	return slog.New(api.ContextLogHandler(h))
}
