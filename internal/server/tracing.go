package server

import (
	"context"

	"github.com/stratusdns/stratus/internal/telemetry"
)

// startTracing starts the export of spans when tracing.endpoint is set
// (telemetry.StartTracing); otherwise spans cost one atomic load each and
// nothing connects anywhere. A process runs one node: the spans of every
// part of it go to the one exporter.
func (s *Node) startTracing() error {
	node, _ := s.cfg.Cluster.NodeName()
	stop, err := telemetry.StartTracing(s.cfg.Tracing, node, s.log.With("component", "tracing"))
	if err != nil {
		return err
	}
	s.stopTracing = stop
	return nil
}

// endTracing flushes the spans not yet exported, within ctx, and turns
// tracing off.
func (s *Node) endTracing(ctx context.Context) error {
	if s.stopTracing == nil {
		return nil
	}
	err := s.stopTracing(ctx)
	s.stopTracing = nil
	return err
}
