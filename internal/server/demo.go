package server

import (
	"bytes"
	"context"
	_ "embed"
	"errors"

	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/zonefile"
)

//go:embed demo.zone
var demoZone []byte

// DemoZone is the name of the demo zone.
const DemoZone model.Name = "demo.stratus.test."

// ensureDemoZone creates the demo zone unless it exists.
func (s *Node) ensureDemoZone(ctx context.Context) error {
	if _, err := s.plane.Zones.GetZone(ctx, DemoZone); err == nil {
		return nil
	} else if !errors.Is(err, control.ErrZoneNotFound) {
		return err
	}
	sets, err := zonefile.Parse(bytes.NewReader(demoZone), zonefile.ParseOptions{Origin: DemoZone, File: "demo.zone"})
	if err != nil {
		return err
	}
	_, err = s.plane.Zones.Import(ctx, DemoZone, sets, control.ImportOptions{WriteOptions: control.WriteOptions{Actor: "demo"}, Mode: control.ImportCreate})
	if err != nil {
		return err
	}
	s.log.Info("demo zone created", "zone", DemoZone)
	return nil
}
