package api

import (
	"net/http"
	"strings"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/model"
)

// bound refuses a request of a bound token (auth.Bindings) on an object
// its path names outside its bindings: the {zone}, {service} and {pool}
// segments, a write of a whole service by a token bound to pools, and
// the drills of a token bound to services or pools. What the path does
// not name is checked by the handlers: the name in a create's body
// (createZone, createService), an endpoint's pool (endpoints.go), and
// the lists, which leave out what the token is not bound to.
func (h *Handler) bound(rt route, r *http.Request, p *auth.Principal) error {
	if p.Bindings.Empty() {
		return nil
	}
	if z := r.PathValue("zone"); z != "" {
		n, err := zoneParam(r)
		if err != nil {
			return err
		}
		if err := p.Zone(string(n)); err != nil {
			return err
		}
	}
	if s := r.PathValue("service"); s != "" {
		n, err := serviceParam(r)
		if err != nil {
			return err
		}
		if rt.pattern == "/v1/services/{service}" && rt.method != http.MethodGet {
			if err := p.WholeService(string(n)); err != nil {
				return err
			}
		} else if err := p.Service(string(n)); err != nil {
			return err
		}
	}
	if pool := r.PathValue("pool"); pool != "" {
		if err := p.Pool(pool); err != nil {
			return err
		}
	}
	if strings.HasPrefix(rt.pattern, "/v1/drill") {
		for _, kind := range []string{auth.BindService, auth.BindPool} {
			if l := bindingList(p.Bindings, kind); len(l) > 0 {
				return &auth.BindingError{Token: p.Name, Kind: kind, Bound: l, Action: "run or read drills, which act across services"}
			}
		}
	}
	return nil
}

func bindingList(b auth.Bindings, kind string) []string {
	if kind == auth.BindService {
		return b.Services
	}
	return b.Pools
}

// boundName refuses name (as a request body gives it) when check does;
// a name that does not parse is left to the handler's own validation.
func boundName(name string, check func(string) error) error {
	n, err := model.ParseName(name)
	if err != nil {
		return nil
	}
	return check(string(n))
}
