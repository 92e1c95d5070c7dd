package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/stratusdns/stratus/internal/telemetry"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// maxJSONBody bounds JSON request bodies.
const maxJSONBody = 4 << 20

// maxDurationLen bounds a duration given as text ("30s").
const maxDurationLen = 32

// decodeJSON strictly decodes the request body into v: the body is JSON
// (Content-Type application/json, or none: many clients send none), unknown
// fields and trailing data are errors, and every error names where the body
// went wrong.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeBody(w, r, v, "application/json")
}

// decodeMergePatch is decodeJSON for a merge patch (RFC 7396), which may
// also say so: Content-Type application/merge-patch+json.
func decodeMergePatch(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeBody(w, r, v, "application/json", "application/merge-patch+json")
}

func decodeBody(w http.ResponseWriter, r *http.Request, v any, types ...string) (err error) {
	_, span := telemetry.Start(r.Context(), "api.decode")
	defer func() { telemetry.Fail(span, err); span.End() }()
	if err := checkContentType(r.Header.Get("Content-Type"), types); err != nil {
		return err
	}
	body := http.MaxBytesReader(w, r.Body, maxJSONBody)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return invalid("", "request body has data after the JSON object")
	}
	return nil
}

// checkContentType accepts a body with no Content-Type or one of types
// (parameters such as charset aside), and refuses any other: a body
// labelled as something else is not read as JSON.
func checkContentType(ct string, types []string) error {
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && slices.Contains(types, mt) {
		return nil
	}
	msg := fmt.Sprintf("Content-Type must be %s (or absent), not %q", strings.Join(types, " or "), ct)
	if mt == "application/x-www-form-urlencoded" {
		// What curl -d sends unless told otherwise.
		msg += "; with curl, add -H 'Content-Type: application/json' (or use --json instead of -d)"
	}
	return errorf(http.StatusUnsupportedMediaType, apiv1.CodeUnsupportedMedia, "%s", msg)
}

// jsonError turns encoding/json's errors into messages naming the field.
func jsonError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, io.EOF):
		return invalid("", "request body is empty; expected a JSON object")
	case errors.As(err, &mbe):
		return errorf(http.StatusRequestEntityTooLarge, "payload_too_large", "request body is larger than %d bytes", mbe.Limit)
	case errors.As(err, &se):
		return invalid("", "malformed JSON at byte %d: %v", se.Offset, se)
	case errors.As(err, &te):
		field := te.Field
		return invalid(field, "expected %s, got JSON %s", jsonKind(te.Type.String()), te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("", "malformed JSON: the body ends too early")
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		name, _ := strconv.Unquote(f)
		return invalid(name, "unknown field %s", f)
	}
	return invalid("", "malformed JSON: %s", strings.TrimPrefix(msg, "json: "))
}

func jsonKind(goType string) string {
	switch {
	case strings.Contains(goType, "int"):
		return "a non-negative whole number"
	case strings.Contains(goType, "string") && strings.HasPrefix(goType, "[]"):
		return "a list of strings"
	case strings.Contains(goType, "string"):
		return "a string"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case goType == "bool":
		return "true or false"
	}
	return fmt.Sprintf("a value of type %s", goType)
}
