package api

import (
	"context"
	"time"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
)

// Control is the control plane as the API uses it: one small interface per
// resource group, each listing only what the handlers call. The parts of
// a *control.Plane fill it; health events come through Options.Health.
type Control struct {
	Zones       Zones
	Secondaries SecondaryZones
	Services    Services
	Endpoints   Endpoints
	Tokens      Tokens
	TSIGKeys    TSIGKeys
	DrillRuns   DrillRuns
	Audit       AuditLog
	Webhooks    Webhooks
}

// Zones serves zones, their records and their journals (*control.Zones).
type Zones interface {
	CreateZone(ctx context.Context, nz control.NewZone, extra []*model.RRset, actor string) (control.ImportResult, error)
	DeleteZone(ctx context.Context, z model.Name, wo control.WriteOptions) error
	ListZones(ctx context.Context) ([]model.ZoneInfo, error)
	GetZone(ctx context.Context, z model.Name) (model.ZoneInfo, error)
	UpdateZone(ctx context.Context, z model.Name, u control.ZoneUpdate, actor string) (model.ZoneInfo, error)
	Apply(ctx context.Context, z model.Name, changes []model.Change, wo control.WriteOptions) (control.ChangeResult, error)
	DeleteRRset(ctx context.Context, z model.Name, k model.Key, wo control.WriteOptions) (control.ChangeResult, error)
	RRsets(ctx context.Context, z model.Name, f control.RRsetFilter) ([]*model.RRset, uint32, error)
	Import(ctx context.Context, z model.Name, sets []*model.RRset, o control.ImportOptions) (control.ImportResult, error)
	JournalPage(ctx context.Context, z model.Name, q control.JournalQuery) ([]control.JournalEntry, bool, error)
	CompactJournal(ctx context.Context, z model.Name, keep int) (int, error)
}

// SecondaryZones creates secondary zones (*control.Secondaries).
type SecondaryZones interface {
	CreateSecondaryZone(ctx context.Context, zs model.ZoneSettings, actor string) (model.ZoneInfo, error)
}

// Services serves steered services and their pools' overrides
// (*control.Services).
type Services interface {
	CreateService(ctx context.Context, svc model.Service, wo control.ServiceWriteOptions) (*model.Service, error)
	UpdateService(ctx context.Context, svc model.Service, wo control.ServiceWriteOptions) (*model.Service, error)
	DeleteService(ctx context.Context, name model.Name, wo control.ServiceWriteOptions) error
	GetService(ctx context.Context, name model.Name) (*model.Service, error)
	ListServices(ctx context.Context) ([]*model.Service, error)
	SetPoolOverride(ctx context.Context, name model.Name, pool, state, reason string, ttl time.Duration, wo control.ServiceWriteOptions) (*model.Service, error)
}

// Endpoints serves the endpoints of services (*control.Endpoints).
type Endpoints interface {
	RegisterEndpoint(ctx context.Context, svc model.Name, ep model.Endpoint, actor string) (*model.Endpoint, bool, error)
	RenewEndpoint(ctx context.Context, svc model.Name, id string) (*model.Endpoint, error)
	DeregisterEndpoint(ctx context.Context, svc model.Name, id, actor string) error
	SetEndpointOverride(ctx context.Context, svc model.Name, id, state, reason, actor string, ttl time.Duration) (*model.Endpoint, error)
	Endpoint(ctx context.Context, svc model.Name, id string) (*model.Endpoint, error)
	PushEndpoint(ctx context.Context, svc model.Name, id string) (*model.Endpoint, error)
	Endpoints(ctx context.Context, svc model.Name) ([]*model.Endpoint, error)
}

// Tokens serves the API's tokens and authenticates every request
// (*control.Tokens).
type Tokens interface {
	Authenticate(ctx context.Context, token string) (*auth.Principal, error)
	AuthenticateKnown(token string) (*auth.Principal, error)
	CreateToken(ctx context.Context, name string, scopes []string, by *auth.Principal) (string, auth.Token, error)
	IssueToken(ctx context.Context, spec control.TokenSpec, by *auth.Principal) (string, auth.Token, error)
	Tokens(ctx context.Context) ([]auth.Token, error)
	DeleteToken(ctx context.Context, id string, by *auth.Principal) error
}

// TSIGKeys serves TSIG keys (*control.TSIGKeys).
type TSIGKeys interface {
	CreateTSIGKey(ctx context.Context, name, algorithm, secret, actor string) (*model.TSIGKey, error)
	TSIGKey(ctx context.Context, name string) (*model.TSIGKey, error)
	TSIGKeys(ctx context.Context) ([]model.TSIGKey, error)
	DeleteTSIGKey(ctx context.Context, name, actor string) error
}

// DrillRuns keeps and serves drill reports (*control.DrillRuns).
type DrillRuns interface {
	SaveDrillRun(ctx context.Context, run control.DrillRun, actor string) (string, error)
	DrillRuns(ctx context.Context, drill string, limit int) ([]control.DrillRun, error)
	DrillRun(ctx context.Context, id string) (*control.DrillRun, error)
}

// PlaneControl is the API's view of a whole control plane.
func PlaneControl(p *control.Plane) Control {
	return Control{
		Zones:       p.Zones,
		Secondaries: p.Secondaries,
		Services:    p.Services,
		Endpoints:   p.Endpoints,
		Tokens:      p.Tokens,
		TSIGKeys:    p.TSIGKeys,
		DrillRuns:   p.DrillRuns,
		Audit:       p.Audit,
		Webhooks:    p.Webhooks,
	}
}
