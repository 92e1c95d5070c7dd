// Package webhook delivers alerts to the webhooks operators configure:
// the node's alert.Sink (a Dispatcher) queues what the node's parts emit
// without blocking, writes the alerts each webhook's filters take to the
// store's outbox (one transaction per batch), and, on the cluster's
// leader, posts them, signed with the webhook's secret (HMAC-SHA256), and
// retries with backoff until the receiver takes them or they are too old.
// An entry leaves the outbox only once delivered or given up, so a
// restart or a new leader goes on where the last one stopped.
package webhook
