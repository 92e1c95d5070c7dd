package api

import (
	"bufio"
	"errors"
	"mime"
	"net/http"
	"strings"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/telemetry"
	"github.com/stratusdns/stratus/internal/zonefile"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// zoneFileType is the media type of RFC 1035 master files (RFC 4027).
const zoneFileType = "text/dns"

func (h *Handler) exportZone(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
	z, err := zoneParam(r)
	if err != nil {
		return err
	}
	sets, serial, err := h.ctl.Zones.RRsets(r.Context(), z, control.RRsetFilter{})
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", zoneFileType)
	w.Header().Set("ETag", etag(serial))
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := zonefile.Write(bw, z, sets); err != nil {
		h.log.ErrorContext(r.Context(), "zone export failed mid-stream", "zone", z, "err", err)
		return nil // the status line is gone; the truncated body shows it
	}
	return bw.Flush()
}

// importZone makes the uploaded zone file the zone's content, creating the
// zone when it does not exist. If-Match: <serial> replaces only at that
// serial; If-None-Match: * only creates.
func (h *Handler) importZone(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	z, im, err := zoneWriteParams(r)
	if err != nil {
		return err
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != zoneFileType && mt != "text/plain" && mt != "application/octet-stream") {
			return errorf(http.StatusUnsupportedMediaType, apiv1.CodeUnsupportedMedia, "Content-Type must be %s (a zone file), not %q", zoneFileType, ct)
		}
	}
	mode := control.ImportUpsert
	switch {
	case strings.TrimSpace(r.Header.Get("If-None-Match")) == "*":
		mode = control.ImportCreate
	case im != nil || strings.TrimSpace(r.Header.Get("If-Match")) == "*":
		mode = control.ImportReplace
	}
	var policy model.SerialPolicy
	for key, vals := range r.URL.Query() {
		if key != "serial_policy" {
			return invalid(key, "unknown query parameter %q (known: serial_policy)", key)
		}
		if policy, err = model.ParseSerialPolicy(vals[0]); err != nil {
			return invalid("serial_policy", "%v", err)
		}
	}
	body := http.MaxBytesReader(w, r.Body, h.opts.MaxZoneFileBytes)
	_, span := telemetry.Start(r.Context(), "api.decode")
	sets, err := zonefile.Parse(body, zonefile.ParseOptions{Origin: z, File: "zonefile",
		MaxRecords: h.opts.MaxZoneRecords, MaxGeneratedRecords: h.opts.MaxZoneGenerated})
	telemetry.Fail(span, err)
	span.End()
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errorf(http.StatusRequestEntityTooLarge, apiv1.CodeTooLarge, "zone file is larger than %d bytes", mbe.Limit)
		}
		return err
	}
	res, err := h.ctl.Zones.Import(r.Context(), z, sets, control.ImportOptions{
		WriteOptions: control.WriteOptions{IfMatch: im, Actor: p.Name},
		Mode:         mode,
		Settings:     model.ZoneSettings{SerialPolicy: policy},
	})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	w.Header().Set("ETag", etag(res.Serial))
	writeJSON(w, status, apiv1.ImportResult{
		ChangeResult: apiv1.ChangeResult{Zone: string(z), OldSerial: res.OldSerial, Serial: res.Serial, Changed: res.Changed},
		Created:      res.Created, RRsets: res.RRsets, Records: res.Records,
	})
	return nil
}
