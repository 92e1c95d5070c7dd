package server

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"

	"github.com/stratusdns/stratus/internal/config"
	"github.com/stratusdns/stratus/internal/geo"
	"github.com/stratusdns/stratus/internal/steer"
	"github.com/stratusdns/stratus/internal/zone"
)

// locator builds the client locator from the steering config: the
// locations table first, then the MaxMind DB.
func locator(c config.Steering) (geo.Locator, func(), error) {
	var chain geo.Chain
	closeFn := func() {}
	if len(c.Locations) > 0 {
		entries, err := c.LocationEntries()
		if err != nil {
			return nil, closeFn, err
		}
		t, err := geo.NewTable(entries)
		if err != nil {
			return nil, closeFn, fmt.Errorf("steering.locations: %w", err)
		}
		chain = append(chain, t)
	}
	if c.MaxMindDB != "" {
		m, err := geo.OpenMaxMind(c.MaxMindDB)
		if err != nil {
			return nil, closeFn, fmt.Errorf("steering.maxmind_db: %w", err)
		}
		chain = append(chain, m)
		closeFn = func() { m.Close() }
	}
	if len(chain) == 0 {
		return nil, closeFn, nil
	}
	return chain, closeFn, nil
}

// resolver returns the resolver for flattened hostnames.
func resolver(addr string) *net.Resolver {
	if addr == "" {
		return net.DefaultResolver
	}
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
}

// steeringSource adapts the steering snapshot pointer for the DNS server.
type steeringSource struct {
	p *atomic.Pointer[steer.Snapshot]
}

func (s steeringSource) Steering() zone.Steering { return s.p.Load() }
