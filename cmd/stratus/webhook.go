package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// errWebhookTest means a test alert was sent and the receiver did not take
// it.
var errWebhookTest = errors.New("the receiver did not take the test alert")

func (a *app) webhookCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "webhook",
		Short: "Manage the webhooks alerts (failovers, endpoints down, failed drills...) are posted to",
	}
	list := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List alert webhooks (never their secrets)",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			hooks, err := c.Webhooks(cmd.Context())
			if err != nil {
				return err
			}
			return p.print(apiv1.WebhookList{Webhooks: hooks}, func(w io.Writer) {
				row(w, "NAME", "URL", "EVENTS", "SERVICES", "ZONES")
				for _, h := range hooks {
					row(w, h.Name, h.URL, filterText(h.Events), filterText(h.Services), filterText(h.Zones))
				}
			})
		},
	}
	get := &cobra.Command{
		Use:   "get NAME",
		Short: "Show an alert webhook (never its secret)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			h, err := c.Webhook(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return p.print(h, func(w io.Writer) { webhookRows(w, h, h.Secret) })
		},
	}
	var url, secretFile string
	var events, services, zones []string
	create := &cobra.Command{
		Use:   "create NAME --url URL [--secret-file FILE] [--event KIND,...] [--service S,...] [--zone Z,...]",
		Short: "Create an alert webhook and print its secret (shown only once)",
		Long: `Create an alert webhook: alerts are posted to URL (http or https) as JSON,
signed with the webhook's secret (X-Stratus-Signature: sha256=<hex
HMAC-SHA256 of timestamp "." body>), retried with backoff until the
receiver answers 2xx, for up to alerts.webhook_max_age (24h).

Without --secret-file a secret is generated and printed, only now.
--secret-file reads one (at least 16 characters; "-" reads standard input);
that secret is not printed back.

Filters: --event takes alert kinds (failover_started, failover_ended,
endpoint_down, endpoint_up, lease_lapsed, all_down_engaged, drill_failed,
secondary_expired), --service services, --zone zones (an alert of the
zone, or of a service at or below it); each given filter must match, and
an empty filter takes every alert.`,
		Example: `  stratus webhook create ops --url https://alerts.example.com/stratus
  stratus webhook create pager --url https://pager.example.com/in --event failover_started,all_down_engaged --service api.example.com`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if url == "" {
				return usagef("--url is required")
			}
			req := apiv1.CreateWebhookRequest{Name: args[0], URL: url, Events: events, Services: services, Zones: zones}
			if secretFile != "" {
				s, err := a.readSecret(secretFile)
				if err != nil {
					return err
				}
				req.Secret = s
			}
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			h, err := c.CreateWebhook(cmd.Context(), req)
			if err != nil {
				return err
			}
			if req.Secret != "" {
				h.Webhook.Secret = "(the one given, not shown)"
				return p.print(h.Webhook, func(w io.Writer) { webhookRows(w, h.Webhook, h.Webhook.Secret) })
			}
			return p.print(h, func(w io.Writer) { webhookRows(w, h.Webhook, h.Secret) })
		},
	}
	create.Flags().StringVar(&url, "url", "", "the http:// or https:// address alerts are posted to")
	create.Flags().StringVar(&secretFile, "secret-file", "", `file holding the signing secret ("-" for standard input); default: generate one`)
	create.Flags().StringSliceVar(&events, "event", nil, "alert kinds to deliver (comma-separated or repeated); default: all")
	create.Flags().StringSliceVar(&services, "service", nil, "services whose alerts to deliver; default: all")
	create.Flags().StringSliceVar(&zones, "zone", nil, "zones whose alerts to deliver, their services' included; default: all")
	del := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete an alert webhook and the deliveries to it not yet made",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			if err := c.DeleteWebhook(cmd.Context(), args[0]); err != nil {
				return err
			}
			out := struct {
				Webhook string `json:"webhook"`
				Deleted bool   `json:"deleted"`
			}{args[0], true}
			return p.print(out, func(w io.Writer) { fmt.Fprintf(w, "webhook %s deleted\n", args[0]) })
		},
	}
	test := &cobra.Command{
		Use:   "test NAME",
		Short: "Send a webhook a test alert now and show how its receiver answered",
		Long: `Send a webhook a test alert (kind "test") now, once, signed like every
alert, and show how its receiver answered. Exits 1 when it did not answer 2xx.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := a.clientAndPrinter()
			if err != nil {
				return err
			}
			res, err := c.TestWebhook(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if err := p.print(res, func(w io.Writer) {
				row(w, "delivery", res.Delivery)
				row(w, "status", fmt.Sprint(res.Status))
				row(w, "ok", fmt.Sprint(res.OK))
				if res.Error != "" {
					row(w, "error", res.Error)
				}
			}); err != nil {
				return err
			}
			if !res.OK {
				return fmt.Errorf("webhook %s: %w", args[0], errWebhookTest)
			}
			return nil
		},
	}
	cmd.AddCommand(list, get, create, del, test)
	return cmd
}

func webhookRows(w io.Writer, h apiv1.Webhook, secret string) {
	row(w, "name", h.Name)
	row(w, "url", h.URL)
	row(w, "secret", secret)
	row(w, "events", filterText(h.Events))
	row(w, "services", filterText(h.Services))
	row(w, "zones", filterText(h.Zones))
	row(w, "created", h.Created.Format(time.RFC3339))
}

func filterText(f []string) string {
	if len(f) == 0 {
		return "all"
	}
	return strings.Join(f, ",")
}
