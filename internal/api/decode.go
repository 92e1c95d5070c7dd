package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// maxJSONBody bounds JSON request bodies.
const maxJSONBody = 4 << 20

// decodeJSON strictly decodes the request body into v: the content type
// must be JSON, unknown fields and trailing data are errors, and every
// error names where the body went wrong.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "Content-Type must be application/json, not %q", ct)
		}
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
