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
	Journal  Journal  `yaml:"journal"`
	Log      Log      `yaml:"log"`
	Client   Client   `yaml:"client"`
	Steering Steering `yaml:"steering"`
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
	// RRL limits the rate of UDP answers per client network (on by
	// default).
	RRL RRL `yaml:"rrl"`
}

// API configures the HTTP API.
type API struct {
	// Listen is the API address (default 127.0.0.1:8053).
	Listen string `yaml:"listen"`
	// MaxZoneFileBytes bounds uploaded zone files (default 128 MiB).
	MaxZoneFileBytes int64 `yaml:"max_zonefile_bytes"`
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

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info (default), warn, error
	Format string `yaml:"format"` // text (default) or json
}

// Client tells the CLI how to reach the API.
type Client struct {
	// Server is the API's base URL (default http://<api.listen>).
	Server string `yaml:"server"`
	// Token is a bearer token; TokenFile a file holding one (default
	// <data_dir>/admin.token).
	Token     string `yaml:"token"`
	TokenFile string `yaml:"token_file"`
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
		DNS:     DNS{Listen: []string{DefaultDNSListen}},
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
	if err := c.DNS.RRL.check(); err != nil {
		return err
	}
	if _, err := netip.ParseAddrPort(c.API.Listen); err != nil {
		return fmt.Errorf("api.listen: %q is not ip:port (%v)", c.API.Listen, err)
	}
	if c.API.MaxZoneFileBytes < 0 {
		return fmt.Errorf("api.max_zonefile_bytes: must not be negative")
	}
	for i, ns := range c.Zones.DefaultNameservers {
		if _, err := model.ParseName(ns); err != nil {
			return fmt.Errorf("zones.default_nameservers[%d]: %v", i, err)
		}
	}
	if c.Zones.NotifyDelay < 0 || c.Zones.NotifyDelay > time.Minute {
		return fmt.Errorf("zones.notify_delay: %v is outside 0..1m", c.Zones.NotifyDelay)
	}
	if c.Journal.MaxEntries < 0 || c.Journal.MaxEntryRecords < 0 || c.Journal.MaxSteeredEntries < 0 {
		return fmt.Errorf("journal: limits must not be negative")
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
