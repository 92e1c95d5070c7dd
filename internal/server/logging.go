package server

import (
	"io"
	"log/slog"

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
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
