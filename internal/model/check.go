package model

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Health check types.
const (
	CheckHTTP  = "http"
	CheckHTTPS = "https"
	CheckTCP   = "tcp"
	CheckDNS   = "dns"
	CheckPush  = "push" // the endpoint reports its own health
	CheckNone  = "none" // endpoints count as up (overrides still apply)
)

// CheckSpec says how a pool's endpoints are checked.
type CheckSpec struct {
	Type     string   `json:"type"`
	Interval Duration `json:"interval"`
	Timeout  Duration `json:"timeout"`
	Rise     int      `json:"rise"` // consecutive successes to come up
	Fall     int      `json:"fall"` // consecutive failures to go down
	Port     uint16   `json:"port,omitempty"`

	// HTTP and HTTPS.
	Method       string            `json:"method,omitempty"`
	Path         string            `json:"path,omitempty"`
	ExpectStatus []string          `json:"expect_status,omitempty"` // "200", "2xx"
	BodyContains string            `json:"body_contains,omitempty"`
	Headers      map[string]string `json:"headers,omitempty"`
	UserAgent    string            `json:"user_agent,omitempty"`
	Host         string            `json:"host,omitempty"` // Host header and TLS SNI; default the endpoint's hostname
	TLSVerify    *bool             `json:"tls_verify,omitempty"`

	// DNS.
	QName        string `json:"qname,omitempty"`
	QType        string `json:"qtype,omitempty"`
	ExpectRcode  string `json:"expect_rcode,omitempty"`
	ExpectAnswer string `json:"expect_answer,omitempty"` // a substring of an answer record's data

	// Push: how long a reported state holds without a new report.
	PushTTL Duration `json:"push_ttl,omitempty"`
}

// Check defaults and bounds.
const (
	DefaultCheckInterval = 10 * time.Second
	DefaultCheckTimeout  = 2 * time.Second
	DefaultRise          = 2
	DefaultFall          = 2
	MinCheckInterval     = 250 * time.Millisecond
	DefaultPushTTL       = 30 * time.Second
)

var (
	statusRE = regexp.MustCompile(`^[1-5]([0-9]{2}|xx)$`)
	methodRE = regexp.MustCompile(`^[A-Z]{1,16}$`)
)

// Normalize fills defaults in place.
func (c *CheckSpec) Normalize() {
	c.Type = strings.ToLower(c.Type)
	if c.Type == "" {
		c.Type = CheckNone
	}
	if c.Interval == 0 {
		c.Interval = Duration(DefaultCheckInterval)
	}
	if c.Timeout == 0 {
		c.Timeout = Duration(min(DefaultCheckTimeout, c.Interval.D()))
	}
	if c.Rise == 0 {
		c.Rise = DefaultRise
	}
	if c.Fall == 0 {
		c.Fall = DefaultFall
	}
	switch c.Type {
	case CheckHTTP, CheckHTTPS:
		if c.Method == "" {
			c.Method = "GET"
		}
		if c.Path == "" {
			c.Path = "/"
		}
		if len(c.ExpectStatus) == 0 {
			c.ExpectStatus = []string{"2xx", "3xx"}
		}
	case CheckDNS:
		if c.QType == "" {
			c.QType = "SOA"
		}
		if c.ExpectRcode == "" {
			c.ExpectRcode = "NOERROR"
		}
	case CheckPush:
		if c.PushTTL == 0 {
			c.PushTTL = Duration(DefaultPushTTL)
		}
	}
}

// Validate checks a normalized spec.
func (c *CheckSpec) Validate() error {
	switch c.Type {
	case CheckHTTP, CheckHTTPS, CheckTCP, CheckDNS, CheckPush, CheckNone:
	default:
		return Errorf("type", "unknown check type %q (known: http, https, tcp, dns, push, none)", c.Type)
	}
	if c.Interval.D() < MinCheckInterval || c.Interval.D() > time.Hour {
		return Errorf("interval", "%v is not between %v and 1h", c.Interval, MinCheckInterval)
	}
	if c.Timeout.D() <= 0 || c.Timeout.D() > c.Interval.D() {
		return Errorf("timeout", "%v must be positive and at most the interval %v", c.Timeout, c.Interval)
	}
	if c.Rise < 1 || c.Rise > 10 {
		return Errorf("rise", "%d is not between 1 and 10", c.Rise)
	}
	if c.Fall < 1 || c.Fall > 10 {
		return Errorf("fall", "%d is not between 1 and 10", c.Fall)
	}
	if c.Type == CheckTCP && c.Port == 0 {
		return Errorf("port", "a tcp check needs a port")
	}
	switch c.Type {
	case CheckHTTP, CheckHTTPS:
		if !methodRE.MatchString(c.Method) {
			return Errorf("method", "%q is not an HTTP method", c.Method)
		}
		if !strings.HasPrefix(c.Path, "/") {
			return Errorf("path", "%q must start with /", c.Path)
		}
		for i, s := range c.ExpectStatus {
			if !statusRE.MatchString(strings.ToLower(s)) {
				return Errorf(fmt.Sprintf("expect_status[%d]", i), "%q is not a status code or class such as 200 or 2xx", s)
			}
		}
		for k := range c.Headers {
			if k == "" || strings.ContainsAny(k, " :\r\n") {
				return Errorf("headers", "%q is not a header name", k)
			}
		}
		if c.Host != "" {
			if _, err := ParseName(c.Host); err != nil {
				return Errorf("host", "%v", err)
			}
		}
	case CheckDNS:
		if c.QName != "" {
			if _, err := ParseName(c.QName); err != nil {
				return Errorf("qname", "%v", err)
			}
		}
		if _, err := ParseType(c.QType); err != nil {
			return Errorf("qtype", "%v", err)
		}
		if _, ok := rcodes[strings.ToUpper(c.ExpectRcode)]; !ok {
			return Errorf("expect_rcode", "%q is not a response code such as NOERROR or NXDOMAIN", c.ExpectRcode)
		}
	case CheckPush:
		if c.PushTTL.D() < time.Second || c.PushTTL.D() > 24*time.Hour {
			return Errorf("push_ttl", "%v is not between 1s and 24h", c.PushTTL)
		}
	}
	return nil
}

// StatusMatches reports whether an HTTP status is in the expected set.
func (c *CheckSpec) StatusMatches(code int) bool {
	s := strconv.Itoa(code)
	for _, want := range c.ExpectStatus {
		w := strings.ToLower(want)
		if w == s || (strings.HasSuffix(w, "xx") && len(s) == 3 && s[0] == w[0]) {
			return true
		}
	}
	return false
}

// rcodes are the response codes a DNS check may expect.
var rcodes = map[string]int{"NOERROR": 0, "FORMERR": 1, "SERVFAIL": 2, "NXDOMAIN": 3, "NOTIMP": 4, "REFUSED": 5}

// Rcode returns the expected response code of a DNS check.
func (c *CheckSpec) Rcode() int { return rcodes[strings.ToUpper(c.ExpectRcode)] }
