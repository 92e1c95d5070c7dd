// Package config reads Stratus's YAML configuration file: strictly (an
// unknown key is an error that names the key and its line), once, into
// typed structs with defaults filled in and every value validated in one
// place. Parsing has no side effects.
//
// The same file serves `stratus serve` and the CLI: the CLI finds the API
// address and the admin token through it (section client, or api.listen
// and data_dir).
package config

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/stratusdns/stratus/internal/dnsconst"
	"github.com/stratusdns/stratus/internal/geo"
	"github.com/stratusdns/stratus/internal/model"
)

// Config is the whole configuration file.
type Config struct {
	// DataDir holds the store and the admin token (default ./stratus-data).
	DataDir string `yaml:"data_dir"`
	// Store chooses the store engine (default: bbolt in DataDir).
	Store Store `yaml:"store"`
	// Cluster names the node among the nodes sharing the store.
	Cluster  Cluster  `yaml:"cluster"`
	DNS      DNS      `yaml:"dns"`
	API      API      `yaml:"api"`
	Zones    Zones    `yaml:"zones"`
	TSIG     TSIG     `yaml:"tsig"`
	Journal  Journal  `yaml:"journal"`
	Audit    Audit    `yaml:"audit"`
	Log      Log      `yaml:"log"`
	Client   Client   `yaml:"client"`
	Steering Steering `yaml:"steering"`
	// Metrics configures the Prometheus metrics (config/metrics.go).
	Metrics Metrics `yaml:"metrics"`
	// Tracing configures OpenTelemetry traces (config/tracing.go).
	Tracing Tracing `yaml:"tracing"`
	// QueryLog configures the JSON query log (config/querylog.go).
	QueryLog QueryLog `yaml:"query_log"`
	// Dnstap configures dnstap output (config/dnstap.go).
	Dnstap Dnstap `yaml:"dnstap"`
	// Alerts configures webhook delivery (config/alerts.go).
	Alerts Alerts `yaml:"alerts"`
	// Drills the server runs on a schedule, or when started through the
	// API.
	Drills []Drill `yaml:"drills"`
}

// Drill is a scenario file the server runs every interval (0: only when
// started through the API).
type Drill struct {
	Scenario string        `yaml:"scenario"`
	Every    time.Duration `yaml:"every"`
}

// MinDrillEvery is the shortest drill schedule.
const MinDrillEvery = time.Minute

// Steering configures how clients are located and how steered names are
// answered.
type Steering struct {
	// Locations maps client networks to locations; it wins over MaxMindDB.
	Locations []Location `yaml:"locations"`
	// MaxMindDB is the path of a MaxMind DB (GeoLite2/GeoIP2 City or
	// Country) used for clients the locations table does not cover.
	MaxMindDB string `yaml:"maxmind_db"`
	// Latency gives, per client region, milliseconds to each pool region.
	Latency map[string]map[string]uint32 `yaml:"latency"`
	// FlattenResolver is the ip:port of the resolver that flattened
	// hostnames are resolved through (default: the system resolver).
	FlattenResolver string `yaml:"flatten_resolver"`
	// FlattenRefresh is how often flattened hostnames are resolved again
	// (default 30s).
	FlattenRefresh time.Duration `yaml:"flatten_refresh"`
	// MaxChecksInFlight bounds concurrent health probes (default 512).
	MaxChecksInFlight int `yaml:"max_checks_in_flight"`
	// Events is how many health events are kept (default 10000).
	Events int `yaml:"events"`
}

// Location is one row of the locations table.
type Location struct {
	CIDR      string   `yaml:"cidr"`
	Region    string   `yaml:"region"`
	Country   string   `yaml:"country"`
	Continent string   `yaml:"continent"`
	Latitude  *float64 `yaml:"latitude"`
	Longitude *float64 `yaml:"longitude"`
}

// LocationEntries returns the locations table as geo entries.
func (s *Steering) LocationEntries() ([]geo.Entry, error) {
	out := make([]geo.Entry, 0, len(s.Locations))
	for i, l := range s.Locations {
		p, err := netip.ParsePrefix(l.CIDR)
		if err != nil {
			return nil, fmt.Errorf("steering.locations[%d].cidr: %q is not a network such as 10.1.0.0/16", i, l.CIDR)
		}
		out = append(out, geo.Entry{Prefix: p, Region: l.Region, Country: l.Country, Continent: l.Continent, Lat: l.Latitude, Lon: l.Longitude})
	}
	return out, nil
}

// checkLocations checks the locations table as the server will build it,
// naming the row of each problem.
func (s *Steering) checkLocations() error {
	entries, err := s.LocationEntries()
	if err != nil || len(entries) == 0 {
		return err
	}
	_, err = geo.NewTable(entries)
	if err == nil {
		return nil
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	var out []error
	for _, e := range errs {
		var ee *geo.EntryError
		if errors.As(e, &ee) {
			e = fmt.Errorf("steering.locations[%d]: %v", ee.Index, ee.Err)
		}
		out = append(out, e)
	}
	return errors.Join(out...)
}

// DNS configures the DNS listeners.
type DNS struct {
	// Listen addresses (ip:port), each served over UDP and TCP
	// (default 127.0.0.1:1053).
	Listen []string `yaml:"listen"`
	// UDPPayloadSize is the EDNS(0) size advertised and the largest UDP
	// response (default 1232).
	UDPPayloadSize int `yaml:"udp_payload_size"`
	// UDPReaders is the number of UDP sockets bound to each listen address
	// (SO_REUSEPORT), each read by one goroutine (default: one per CPU).
	UDPReaders int `yaml:"udp_readers"`
	// TCPIdleTimeout closes idle TCP connections (default 10s).
	TCPIdleTimeout time.Duration `yaml:"tcp_idle_timeout"`
	// TCPMaxConnections caps concurrent TCP connections (default 1000).
	TCPMaxConnections int `yaml:"tcp_max_connections"`
	// Anomalies says when to report floods and query spikes.
	Anomalies Anomalies `yaml:"anomalies"`
	// TCPMaxConnectionsPerClient caps the TCP connections of one IPv4
	// address or IPv6 /64 (default 10).
	TCPMaxConnectionsPerClient int `yaml:"tcp_max_connections_per_client"`
	// TCPMessageTimeout bounds a TCP message from its first octet to its
	// last (default 2s).
	TCPMessageTimeout time.Duration `yaml:"tcp_message_timeout"`
	// TCPBusyIdleTimeout is the idle timeout while more than half of
	// tcp_max_connections are open (default 1s).
	TCPBusyIdleTimeout time.Duration `yaml:"tcp_busy_idle_timeout"`
	// TCPLimitExempt lists networks (CIDR) whose clients the per-client
	// connection cap does not count.
	TCPLimitExempt []string `yaml:"tcp_limit_exempt"`
	// Cookies answers DNS Cookies (RFC 7873; default true).
	Cookies bool `yaml:"cookies"`
	// CookieSecret keys the server cookies: 32 hex digits, the same on
	// every node answering for one address (default: random at start).
	CookieSecret string `yaml:"cookie_secret"`
	// CookieSecretPrevious is the secret before a rollover: cookies it
	// made are still valid.
	CookieSecretPrevious string `yaml:"cookie_secret_previous"`
	// Identity answers NSID and CH TXT id.server and hostname.bind
	// (default: the host name; "none": none).
	Identity string `yaml:"identity"`
	// Version answers CH TXT version.bind and version.server (default
	// none: REFUSED).
	Version string `yaml:"version"`
	// RRL limits the rate of UDP answers per client network (on by
	// default).
	RRL RRL `yaml:"rrl"`
}

// TCPLimitExemptPrefixes returns TCPLimitExempt parsed; Validate has
// checked it.
func (d *DNS) TCPLimitExemptPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range d.TCPLimitExempt {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
		}
	}
	return out
}

// API configures the HTTP API.
type API struct {
	// Listen is the API address (default 127.0.0.1:8053).
	Listen string `yaml:"listen"`
	// MaxZoneFileBytes bounds uploaded zone files (default 128 MiB).
	MaxZoneFileBytes int64 `yaml:"max_zonefile_bytes"`
	// TLS serves the API over HTTPS.
	TLS *APITLS `yaml:"tls"`
	// AllowInsecureHTTP serves plain HTTP on a listen address that is not
	// loopback; without it (or TLS) the server refuses to start there.
	AllowInsecureHTTP bool `yaml:"allow_insecure_http"`
	// ReadHeaderTimeout bounds reading a request's headers (default 10s).
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// ReadTimeout bounds reading a whole request, body included (default
	// 30s); zone file uploads get ZoneFileTimeout.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// WriteTimeout bounds a request from the end of its headers to the
	// end of its response (default 2m); zone file uploads and exports get
	// ZoneFileTimeout.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// IdleTimeout closes a kept-alive connection idle this long (default
	// 2m).
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// ZoneFileTimeout bounds a zone file upload or export, reading and
	// writing (default 30m).
	ZoneFileTimeout time.Duration `yaml:"zonefile_timeout"`
	// RateLimit bounds the requests of each token and the failed
	// authentications of each client address.
	RateLimit RateLimit `yaml:"rate_limit"`
	// TrustedProxies are the addresses (CIDRs or single addresses) of
	// proxies in front of the API whose X-Forwarded-For is believed: a
	// request from one counts against, and is logged with, the client
	// address it names.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// TrustedProxyPrefixes returns TrustedProxies as prefixes (a single
// address as a /32 or /128); entries that do not parse, which check
// refuses, are left out.
func (a *API) TrustedProxyPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range a.TrustedProxies {
		if p, err := parsePrefix(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func parsePrefix(s string) (netip.Prefix, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return p, err
	}
	return p.Masked(), nil
}

// APITLS names the files of the API's certificate, read again when they
// change, and how clients' certificates are checked.
type APITLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ClientCAFile verifies client certificates (PEM); with it, ClientAuth
	// says whether one is required (require, the default) or checked only
	// when a client sends one (verify_if_given).
	ClientCAFile string `yaml:"client_ca_file"`
	ClientAuth   string `yaml:"client_auth"`
}

// Values of api.tls.client_auth.
const (
	ClientAuthRequire       = "require"
	ClientAuthVerifyIfGiven = "verify_if_given"
)

// RateLimit configures the API's token buckets. Zero values mean the
// defaults.
type RateLimit struct {
	// PerToken is the requests per second each token may make on average
	// (default 5000), Burst how many it may make at once (default 10000).
	PerToken float64 `yaml:"per_token"`
	Burst    int     `yaml:"burst"`
	// FailuresPerAddress is the failed authentications per second each
	// client address (IPv6: each /64) may make on average (default 5),
	// FailuresBurst how many at once (default 50).
	FailuresPerAddress float64 `yaml:"failures_per_address"`
	FailuresBurst      int     `yaml:"failures_burst"`
}

// Defaults of the api section.
const (
	DefaultAPIReadHeaderTimeout = 10 * time.Second
	DefaultAPIReadTimeout       = 30 * time.Second
	DefaultAPIWriteTimeout      = 2 * time.Minute
	DefaultAPIIdleTimeout       = 2 * time.Minute
	DefaultAPIZoneFileTimeout   = 30 * time.Minute
)

// Scheme is the URL scheme the API is served with: https with api.tls.
func (a *API) Scheme() string {
	if a.TLS != nil {
		return "https"
	}
	return "http"
}

// Loopback reports whether the API listens on a loopback address only
// (Validate first).
func (a *API) Loopback() bool {
	ap, err := netip.ParseAddrPort(a.Listen)
	return err == nil && ap.Addr().Unmap().IsLoopback()
}

// check validates the api section's transport: TLS, timeouts and rate
// limits.
func (a *API) check() error {
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"read_header_timeout", a.ReadHeaderTimeout}, {"read_timeout", a.ReadTimeout}, {"write_timeout", a.WriteTimeout}, {"idle_timeout", a.IdleTimeout}, {"zonefile_timeout", a.ZoneFileTimeout}} {
		if d.v < 0 {
			return fmt.Errorf("api.%s: %v must not be negative (0: the default)", d.key, d.v)
		}
	}
	rl := a.RateLimit
	if rl.PerToken < 0 || rl.Burst < 0 || rl.FailuresPerAddress < 0 || rl.FailuresBurst < 0 {
		return fmt.Errorf("api.rate_limit: per_token, burst, failures_per_address and failures_burst must not be negative (0: the default)")
	}
	for _, s := range a.TrustedProxies {
		if _, err := parsePrefix(s); err != nil {
			return fmt.Errorf("api.trusted_proxies: %q is not an address or a CIDR such as 10.0.0.0/8", s)
		}
	}
	if t := a.TLS; t != nil {
		if t.CertFile == "" || t.KeyFile == "" {
			return fmt.Errorf("api.tls: give both cert_file and key_file")
		}
		switch t.ClientAuth {
		case "":
		case ClientAuthRequire, ClientAuthVerifyIfGiven:
			if t.ClientCAFile == "" {
				return fmt.Errorf("api.tls.client_auth: %s needs api.tls.client_ca_file, the CA that signs client certificates", t.ClientAuth)
			}
		default:
			return fmt.Errorf("api.tls.client_auth: %q is not %s or %s", t.ClientAuth, ClientAuthRequire, ClientAuthVerifyIfGiven)
		}
	}
	return nil
}

// Zones configures zone defaults.
type Zones struct {
	// DefaultNameservers are the NS records of zones created without any.
	DefaultNameservers []string `yaml:"default_nameservers"`
	// Demo creates the demo zone demo.stratus.test. at start if missing.
	Demo bool `yaml:"demo"`
	// NotifyDelay gathers the serial changes of this long into one NOTIFY
	// to each secondary (default 100ms).
	NotifyDelay time.Duration `yaml:"notify_delay"`
	// MaxRecords bounds the records of one zone file import or incoming
	// zone transfer, counted as they are read (default 5,000,000).
	MaxRecords int `yaml:"max_records"`
	// MaxGeneratedRecords bounds the records the $GENERATE directives of
	// one zone file make together (default 262,144).
	MaxGeneratedRecords int `yaml:"max_generated_records"`
}

// Journal bounds the per-zone change journals.
type Journal struct {
	// MaxEntries per zone (default 1000).
	MaxEntries int `yaml:"max_entries"`
	// MaxSteeredEntries per zone, apart from MaxEntries: entries of
	// changes of the steered answers kept for secondaries alone (actor
	// "steering"; default 100).
	MaxSteeredEntries int `yaml:"max_steered_entries"`
	// MaxEntryRecords: larger changes are journaled without their records
	// (default 100000).
	MaxEntryRecords int `yaml:"max_entry_records"`
}

// Audit configures the audit log.
type Audit struct {
	// KeyFile holds the audit key, 32 random bytes that MAC the log's
	// chains and that the store never holds (default
	// <data_dir>/audit.key, made at first start; every node of a cluster
	// needs the same file).
	KeyFile string `yaml:"key_file"`
	// Retention is how long entries are kept (default 2160h, 90 days).
	Retention time.Duration `yaml:"retention"`
}

// MinAuditRetention is the shortest audit.retention.
const MinAuditRetention = time.Hour

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info (default), warn, error
	Format string `yaml:"format"` // text (default) or json
}

// Client tells the CLI how to reach the API.
type Client struct {
	// Server is the API's base URL (default http://<api.listen>, https
	// with api.tls).
	Server string `yaml:"server"`
	// Token is a bearer token; TokenFile a file holding one (default
	// <data_dir>/admin.token).
	Token     string `yaml:"token"`
	TokenFile string `yaml:"token_file"`
	// CAFile verifies the server's certificate with an https server
	// (default: the system roots); CertFile and KeyFile are a client
	// certificate, both or neither.
	CAFile   string `yaml:"ca_file"`
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Defaults.
const (
	DefaultDataDir   = "./stratus-data"
	DefaultDNSListen = "127.0.0.1:1053"
	DefaultAPIListen = "127.0.0.1:8053"
)

// Default returns the configuration used when no file is given.
func Default() Config {
	return Config{
		DataDir: DefaultDataDir,
		DNS:     DNS{Listen: []string{DefaultDNSListen}, Cookies: true},
		API:     API{Listen: DefaultAPIListen},
		Log:     Log{Level: "info", Format: "text"},
	}
}

// Validate checks every value and names the first bad one by its key.
func (c *Config) Validate() error {
	if c.DataDir == "" {
		return fmt.Errorf("data_dir: must not be empty")
	}
	if e := c.Store.Etcd; e != nil {
		e.withDefaults()
		if err := e.Check(configKey); err != nil {
			return err
		}
	}
	if err := c.Cluster.check(); err != nil {
		return err
	}
	if len(c.DNS.Listen) == 0 {
		return fmt.Errorf("dns.listen: give at least one ip:port")
	}
	for i, a := range c.DNS.Listen {
		if _, err := netip.ParseAddrPort(a); err != nil {
			return fmt.Errorf("dns.listen[%d]: %q is not ip:port (%v)", i, a, err)
		}
	}
	if p := c.DNS.UDPPayloadSize; p != 0 && (p < dnsconst.MinUDPSize || p > dnsconst.MaxUDPSize) {
		return fmt.Errorf("dns.udp_payload_size: %d is outside %d..%d", p, dnsconst.MinUDPSize, dnsconst.MaxUDPSize)
	}
	if c.DNS.UDPReaders < 0 || c.DNS.TCPMaxConnections < 0 || c.DNS.TCPIdleTimeout < 0 {
		return fmt.Errorf("dns: udp_readers, tcp_max_connections and tcp_idle_timeout must not be negative")
	}
	if err := c.DNS.Anomalies.check(); err != nil {
		return err
	}
	if c.DNS.TCPMaxConnectionsPerClient < 0 || c.DNS.TCPMessageTimeout < 0 || c.DNS.TCPBusyIdleTimeout < 0 {
		return fmt.Errorf("dns: tcp_max_connections_per_client, tcp_message_timeout and tcp_busy_idle_timeout must not be negative")
	}
	if per, all := c.DNS.TCPMaxConnectionsPerClient, c.DNS.TCPMaxConnections; per > 0 && all > 0 && per > all {
		return fmt.Errorf("dns.tcp_max_connections_per_client: %d is more than tcp_max_connections (%d)", per, all)
	}
	for i, e := range c.DNS.TCPLimitExempt {
		if _, err := netip.ParsePrefix(e); err != nil {
			return fmt.Errorf("dns.tcp_limit_exempt[%d]: %q is not a network (CIDR, e.g. 192.0.2.0/24)", i, e)
		}
	}
	if err := c.DNS.checkIdentity(); err != nil {
		return err
	}
	if err := c.DNS.RRL.check(); err != nil {
		return err
	}
	if err := c.Tracing.check(); err != nil {
		return err
	}
	if _, err := netip.ParseAddrPort(c.API.Listen); err != nil {
		return fmt.Errorf("api.listen: %q is not ip:port (%v)", c.API.Listen, err)
	}
	if c.API.MaxZoneFileBytes < 0 {
		return fmt.Errorf("api.max_zonefile_bytes: must not be negative")
	}
	if err := c.API.check(); err != nil {
		return err
	}
	if err := c.Metrics.check(c.API.Listen); err != nil {
		return err
	}
	for i, ns := range c.Zones.DefaultNameservers {
		if _, err := model.ParseName(ns); err != nil {
			return fmt.Errorf("zones.default_nameservers[%d]: %v", i, err)
		}
	}
	if c.Zones.NotifyDelay < 0 || c.Zones.NotifyDelay > time.Minute {
		return fmt.Errorf("zones.notify_delay: %v is outside 0..1m", c.Zones.NotifyDelay)
	}
	if err := c.checkLimits(); err != nil {
		return err
	}
	if err := c.QueryLog.check(); err != nil {
		return err
	}
	if err := c.Dnstap.check(); err != nil {
		return err
	}
	if c.Journal.MaxEntries < 0 || c.Journal.MaxEntryRecords < 0 || c.Journal.MaxSteeredEntries < 0 {
		return fmt.Errorf("journal: limits must not be negative")
	}
	if err := c.Alerts.check(); err != nil {
		return err
	}
	if r := c.Audit.Retention; r != 0 && r < MinAuditRetention {
		return fmt.Errorf("audit.retention: %v is shorter than %v", r, MinAuditRetention)
	}
	for i, d := range c.Drills {
		if d.Scenario == "" {
			return fmt.Errorf("drills[%d].scenario: name a scenario file", i)
		}
		if d.Every != 0 && d.Every < MinDrillEvery {
			return fmt.Errorf("drills[%d].every: %v is shorter than %v", i, d.Every, MinDrillEvery)
		}
	}
	if err := c.Steering.checkLocations(); err != nil {
		return err
	}
	if c.Steering.FlattenResolver != "" {
		if _, err := netip.ParseAddrPort(c.Steering.FlattenResolver); err != nil {
			return fmt.Errorf("steering.flatten_resolver: %q is not ip:port", c.Steering.FlattenResolver)
		}
	}
	if c.Steering.FlattenRefresh < 0 {
		return fmt.Errorf("steering.flatten_refresh: must not be negative")
	}
	if c.Steering.MaxChecksInFlight < 0 || c.Steering.Events < 0 {
		return fmt.Errorf("steering: limits must not be negative")
	}
	if (c.Client.CertFile == "") != (c.Client.KeyFile == "") {
		return fmt.Errorf("client: give both cert_file and key_file, or neither")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log.level: %q is not one of debug, info, warn, error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return fmt.Errorf("log.format: %q is not text or json", c.Log.Format)
	}
	return nil
}

// NameServers returns zones.default_nameservers as names (Validate first).
func (c *Config) NameServers() []model.Name {
	var out []model.Name
	for _, ns := range c.Zones.DefaultNameservers {
		out = append(out, model.MustName(ns))
	}
	return out
}
