package api

import (
	"net/http"

	"github.com/stratusdns/stratus/internal/auth"
)

// routes lists every endpoint once. openapi.json must describe exactly
// these (TestOpenAPIMatchesRoutes).
func (h *Handler) routes() []route {
	return []route{
		{http.MethodGet, "/v1/openapi.json", auth.ScopeZonesRead, h.openAPI},
		{http.MethodGet, "/v1/status", auth.ScopeZonesRead, h.status},
		{http.MethodGet, h.metricsPath(), auth.ScopeMetricsRead, h.serveMetrics},
		{http.MethodGet, "/v1/cluster", auth.ScopeZonesRead, h.cluster},

		{http.MethodGet, "/v1/zones", auth.ScopeZonesRead, h.listZones},
		{http.MethodPost, "/v1/zones", auth.ScopeZonesWrite, h.createZone},
		{http.MethodGet, "/v1/zones/{zone}", auth.ScopeZonesRead, h.getZone},
		{http.MethodPatch, "/v1/zones/{zone}", auth.ScopeZonesWrite, h.updateZone},
		{http.MethodDelete, "/v1/zones/{zone}", auth.ScopeZonesWrite, h.deleteZone},

		{http.MethodGet, "/v1/zones/{zone}/zonefile", auth.ScopeZonesRead, h.exportZone},
		{http.MethodPut, "/v1/zones/{zone}/zonefile", auth.ScopeZonesWrite, h.importZone},

		{http.MethodGet, "/v1/zones/{zone}/rrsets", auth.ScopeZonesRead, h.listRRsets},
		{http.MethodPatch, "/v1/zones/{zone}/rrsets", auth.ScopeZonesWrite, h.patchRRsets},
		{http.MethodGet, "/v1/zones/{zone}/rrsets/{name}/{type}", auth.ScopeZonesRead, h.getRRset},
		{http.MethodPut, "/v1/zones/{zone}/rrsets/{name}/{type}", auth.ScopeZonesWrite, h.putRRset},
		{http.MethodDelete, "/v1/zones/{zone}/rrsets/{name}/{type}", auth.ScopeZonesWrite, h.deleteRRset},

		{http.MethodGet, "/v1/zones/{zone}/journal", auth.ScopeZonesRead, h.getJournal},
		{http.MethodPost, "/v1/zones/{zone}/journal/compact", auth.ScopeZonesWrite, h.compactJournal},

		{http.MethodGet, "/v1/services", auth.ScopeServicesRead, h.listServices},
		{http.MethodPost, "/v1/services", auth.ScopeServicesWrite, h.createService},
		{http.MethodGet, "/v1/services/{service}", auth.ScopeServicesRead, h.getService},
		{http.MethodPut, "/v1/services/{service}", auth.ScopeServicesWrite, h.putService},
		{http.MethodDelete, "/v1/services/{service}", auth.ScopeServicesWrite, h.deleteService},
		{http.MethodGet, "/v1/services/{service}/evaluate", auth.ScopeServicesRead, h.evaluate},
		{http.MethodPut, "/v1/services/{service}/pools/{pool}/override", auth.ScopeServicesWrite, h.setPoolOverride},
		{http.MethodDelete, "/v1/services/{service}/pools/{pool}/override", auth.ScopeServicesWrite, h.clearPoolOverride},

		{http.MethodGet, "/v1/services/{service}/endpoints", auth.ScopeServicesRead, h.listEndpoints},
		{http.MethodPost, "/v1/services/{service}/endpoints", auth.ScopeEndpointsWrite, h.registerEndpoint},
		{http.MethodGet, "/v1/services/{service}/endpoints/{id}", auth.ScopeServicesRead, h.getEndpoint},
		{http.MethodPut, "/v1/services/{service}/endpoints/{id}", auth.ScopeEndpointsWrite, h.registerEndpoint},
		{http.MethodDelete, "/v1/services/{service}/endpoints/{id}", auth.ScopeEndpointsWrite, h.deleteEndpoint},
		{http.MethodPost, "/v1/services/{service}/endpoints/{id}/renew", auth.ScopeEndpointsWrite, h.renewEndpoint},
		{http.MethodPost, "/v1/services/{service}/endpoints/{id}/health", auth.ScopeEndpointsWrite, h.pushHealth},
		{http.MethodPut, "/v1/services/{service}/endpoints/{id}/override", auth.ScopeServicesWrite, h.setEndpointOverride},
		{http.MethodDelete, "/v1/services/{service}/endpoints/{id}/override", auth.ScopeServicesWrite, h.clearEndpointOverride},

		{http.MethodGet, "/v1/events", auth.ScopeServicesRead, h.events},

		{http.MethodGet, "/v1/drill-runs", auth.ScopeServicesRead, h.listDrillRuns},
		{http.MethodGet, "/v1/drills/{drill}/runs", auth.ScopeServicesRead, h.listDrillRuns},
		{http.MethodPost, "/v1/drills/{drill}/runs", auth.ScopeServicesWrite, h.saveDrillRun},
		{http.MethodPost, "/v1/drills/{drill}/start", auth.ScopeServicesWrite, h.startDrill},
		{http.MethodGet, "/v1/drills/{drill}/runs/{run}", auth.ScopeServicesRead, h.getDrillRun},

		{http.MethodGet, "/v1/tokens", auth.ScopeTokens, h.listTokens},
		{http.MethodPost, "/v1/tokens", auth.ScopeTokens, h.createToken},
		{http.MethodDelete, "/v1/tokens/{id}", auth.ScopeTokens, h.deleteToken},

		{http.MethodGet, "/v1/audit", auth.ScopeAuditRead, h.listAudit},
		{http.MethodGet, "/v1/audit/verify", auth.ScopeAuditRead, h.verifyAudit},

		{http.MethodGet, "/v1/tsig-keys", auth.ScopeTSIG, h.listTSIGKeys},
		{http.MethodPost, "/v1/tsig-keys", auth.ScopeTSIG, h.createTSIGKey},
		{http.MethodGet, "/v1/tsig-keys/{name}", auth.ScopeTSIG, h.getTSIGKey},
		{http.MethodDelete, "/v1/tsig-keys/{name}", auth.ScopeTSIG, h.deleteTSIGKey},

		{http.MethodGet, "/v1/webhooks", auth.ScopeWebhooksRead, h.listWebhooks},
		{http.MethodPost, "/v1/webhooks", auth.ScopeWebhooksWrite, h.createWebhook},
		{http.MethodGet, "/v1/webhooks/{name}", auth.ScopeWebhooksRead, h.getWebhook},
		{http.MethodDelete, "/v1/webhooks/{name}", auth.ScopeWebhooksWrite, h.deleteWebhook},
		{http.MethodPost, "/v1/webhooks/{name}/test", auth.ScopeWebhooksWrite, h.testWebhook},
	}
}
