// Package client is the Go client for the Stratus HTTP API (version 1).
// Functions, deploy pipelines and the stratus CLI itself use it.
//
//	c := client.New("http://127.0.0.1:8053", token)
//	res, err := c.ChangeRRsets(ctx, "example.com.", []apiv1.Change{{
//		Op: "add", Name: "www", Type: "A", Records: []string{"192.0.2.1"},
//	}}, nil)
//
// Every method returns *APIError for responses the server refused, carrying
// the HTTP status, the error code and the field at fault.
package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/stratusdns/stratus/pkg/apiv1"
)

// Client talks to one Stratus API server. It is safe for concurrent use.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// New returns a client for the API at base (e.g. "http://127.0.0.1:8053")
// authenticating with token.
func New(base, token string, opts ...Option) *Client {
	c := &Client{base: strings.TrimRight(base, "/"), token: token, http: &http.Client{
		Timeout: 10 * time.Minute,
		// The API never redirects; following one would send the token
		// elsewhere and decode an answer to another request.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Option configures a Client.
type Option func(*Client)

// WithTLS sets the TLS configuration for an https:// server: the CAs
// that verify it (RootCAs) and a client certificate (Certificates).
func WithTLS(tc *tls.Config) Option {
	return func(c *Client) {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = tc
		c.http.Transport = t
	}
}

// APIError is an error response from the server.
type APIError struct {
	Status  int    // HTTP status
	Code    string // apiv1.Code*
	Message string
	Field   string // the input at fault, when there is one
}

func (e *APIError) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Message
	}
	return e.Message
}

// StatusOf returns the HTTP status of an *APIError in err's chain, or 0.
func StatusOf(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// ConnectionError means the server could not be reached.
type ConnectionError struct {
	Server string
	Err    error
}

func (e *ConnectionError) Error() string {
	return fmt.Sprintf("cannot reach the Stratus API at %s: %v", e.Server, e.Err)
}

func (e *ConnectionError) Unwrap() error { return e.Err }

// request is one API call.
type request struct {
	method, path string
	query        url.Values
	body         io.Reader
	contentType  string
	json         any // sent as the JSON body when not nil
	ifMatch      *uint64
	ifNoneMatch  bool
}

// do sends r and decodes a JSON response into out (unless nil or the
// response has no body). It returns the response's ETag as a serial when
// there is one.
func (c *Client) do(ctx context.Context, r request, out any) (etag uint32, err error) {
	u := c.base + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	if r.json != nil {
		b, err := json.Marshal(r.json)
		if err != nil {
			return 0, err
		}
		r.body, r.contentType = bytes.NewReader(b), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, r.body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	if r.ifMatch != nil {
		req.Header.Set("If-Match", strconv.Quote(strconv.FormatUint(*r.ifMatch, 10)))
	}
	if r.ifNoneMatch {
		req.Header.Set("If-None-Match", "*")
	}
	res, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, &ConnectionError{Server: c.base, Err: err}
	}
	defer res.Body.Close()
	if tag, err := strconv.ParseUint(strings.Trim(res.Header.Get("ETag"), `"`), 10, 32); err == nil {
		etag = uint32(tag)
	}
	if res.StatusCode >= 400 {
		return etag, decodeError(res)
	}
	if res.StatusCode >= 300 {
		return etag, &APIError{Status: res.StatusCode, Code: "unexpected_redirect",
			Message: fmt.Sprintf("the server answered %s (to %s); is %s the Stratus API?", res.Status, res.Header.Get("Location"), c.base)}
	}
	if out == nil || res.StatusCode == http.StatusNoContent {
		return etag, nil
	}
	if w, ok := out.(io.Writer); ok {
		_, err = io.Copy(w, res.Body)
		return etag, err
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		return etag, fmt.Errorf("decoding the API response: %w", err)
	}
	return etag, nil
}

func decodeError(res *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	var er apiv1.ErrorResponse
	if err := json.Unmarshal(b, &er); err != nil || er.Error.Code == "" {
		msg := strings.TrimSpace(string(b))
		if msg == "" {
			msg = res.Status
		}
		return &APIError{Status: res.StatusCode, Code: "http_" + strconv.Itoa(res.StatusCode), Message: msg}
	}
	return &APIError{Status: res.StatusCode, Code: er.Error.Code, Message: er.Error.Message, Field: er.Error.Field}
}

func zonePath(zone string) string { return "/v1/zones/" + apiv1.PathSegment(zone) }

// serial widens a zone serial for the If-Match header.
func serial(v *uint32) *uint64 {
	if v == nil {
		return nil
	}
	n := uint64(*v)
	return &n
}
