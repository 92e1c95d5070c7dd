package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/stratusdns/stratus/pkg/apiv1"
)

// SaveDrillRun keeps a drill's run and report; it returns the run as kept
// (with its id).
func (c *Client) SaveDrillRun(ctx context.Context, run apiv1.DrillRun) (apiv1.DrillRun, error) {
	var out apiv1.DrillRun
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/drills/" + apiv1.PathSegment(run.Drill) + "/runs", json: run}, &out)
	return out, err
}

// DrillRuns lists the runs kept, newest first, of one drill or ("") all.
func (c *Client) DrillRuns(ctx context.Context, drill string, limit int) ([]apiv1.DrillRun, error) {
	path := "/v1/drill-runs"
	if drill != "" {
		path = "/v1/drills/" + apiv1.PathSegment(drill) + "/runs"
	}
	var out apiv1.DrillRunList
	_, err := c.do(ctx, request{method: http.MethodGet, path: path, query: url.Values{"limit": {strconv.Itoa(limit)}}}, &out)
	return out.Runs, err
}

// DrillRun returns one run, "<drill>/<run>", with its report.
func (c *Client) DrillRun(ctx context.Context, drill, run string) (apiv1.DrillRun, error) {
	var out apiv1.DrillRun
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/drills/" + apiv1.PathSegment(drill) + "/runs/" + url.PathEscape(run)}, &out)
	return out, err
}

// StartDrill starts one of the server's configured drills in the
// background; its run is kept when it ends.
func (c *Client) StartDrill(ctx context.Context, drill string) error {
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/drills/" + apiv1.PathSegment(drill) + "/start"}, nil)
	return err
}
