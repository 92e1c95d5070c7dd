package api

import (
	"errors"
	"net/http"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/drill"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

func drillRunJSON(r *control.DrillRun) apiv1.DrillRun {
	return apiv1.DrillRun{ID: r.ID, Drill: r.Drill, Started: r.Started, Ended: r.Ended, Passed: r.Passed, Aborted: r.Aborted, Actor: r.Actor, Report: r.Report}
}

func (h *Handler) saveDrillRun(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var req apiv1.DrillRun
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Drill != "" && req.Drill != r.PathValue("drill") {
		return invalid("drill", "the body names drill %q, the path %q", req.Drill, r.PathValue("drill"))
	}
	id, err := h.ctl.DrillRuns.SaveDrillRun(r.Context(), control.DrillRun{Drill: r.PathValue("drill"), Started: req.Started, Ended: req.Ended,
		Passed: req.Passed, Aborted: req.Aborted, Report: req.Report}, p.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, apiv1.DrillRun{ID: id, Drill: r.PathValue("drill"), Started: req.Started, Ended: req.Ended, Passed: req.Passed, Aborted: req.Aborted, Actor: p.Name})
	return nil
}

func (h *Handler) listDrillRuns(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := parseLimit(v, 1000)
		if err != nil {
			return err
		}
		limit = n
	}
	runs, err := h.ctl.DrillRuns.DrillRuns(r.Context(), r.PathValue("drill"), limit)
	if err != nil {
		return err
	}
	out := apiv1.DrillRunList{Runs: make([]apiv1.DrillRun, 0, len(runs))}
	for i := range runs {
		out.Runs = append(out.Runs, drillRunJSON(&runs[i]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *Handler) getDrillRun(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
	run, err := h.ctl.DrillRuns.DrillRun(r.Context(), r.PathValue("drill")+"/"+r.PathValue("run"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, drillRunJSON(run))
	return nil
}

func (h *Handler) startDrill(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if h.opts.Drills == nil {
		return errorf(http.StatusServiceUnavailable, apiv1.CodeUnavailable, "this server runs no drills")
	}
	name := r.PathValue("drill")
	switch err := h.opts.Drills.Start(name, p.Name); {
	case errors.Is(err, drill.ErrUnknownDrill):
		return errorf(http.StatusNotFound, apiv1.CodeNotFound, "no drill %q is configured on this server (drills: in its config file)", name)
	case errors.Is(err, drill.ErrDrillRunning):
		return errorf(http.StatusConflict, apiv1.CodeAlreadyExists, "drill %q is running", name)
	case err != nil:
		return err
	}
	writeJSON(w, http.StatusAccepted, apiv1.DrillRun{Drill: name, Actor: p.Name})
	return nil
}
