package xfr

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
)

// tsigFudge is the clock skew allowed between signer and verifier
// (RFC 8945 section 10: 300 seconds).
const tsigFudge = 300

// signer signs the messages of one response: the first with the
// request's MAC, each later one with the previous message's MAC and the
// timers only (RFC 8945 section 5.3.1). A nil signer signs nothing.
type signer struct {
	key     *model.TSIGKey
	secret  string // base64, as miekg/dns takes it
	mac     string // the MAC to chain the next message to
	signed  int
	tsigErr uint16
	origID  uint16
}

// verify checks the request's TSIG. It returns a nil signer for an
// unsigned request; otherwise a signer for the response, and a TSIG error
// (BADKEY, BADSIG, BADTIME) when the request must be refused with NOTAUTH.
func verify(ctx context.Context, src Source, req []byte, m *dns.Msg) (*signer, error) {
	t := m.IsTsig()
	if t == nil {
		return nil, nil
	}
	sg := &signer{origID: m.Id}
	name := dns.CanonicalName(t.Hdr.Name)
	k, err := src.TSIGKey(ctx, name)
	if err != nil && !errors.Is(err, control.ErrTSIGKeyNotFound) {
		return nil, err
	}
	if k == nil || dns.CanonicalName(t.Algorithm) != k.Algorithm+"." {
		sg.key = &model.TSIGKey{Name: model.Name(name), Algorithm: strings.TrimSuffix(dns.CanonicalName(t.Algorithm), ".")}
		sg.tsigErr = dns.RcodeBadKey
		return sg, nil
	}
	sg.key, sg.secret = k, k.SecretBase64()
	// TsigVerify rewrites the buffer it checks: give it a copy.
	switch err := dns.TsigVerify(append([]byte(nil), req...), sg.secret, "", false); {
	case err == nil:
		sg.mac = t.MAC
	case errors.Is(err, dns.ErrTime):
		// BADTIME answers are signed, and carry our time (RFC 8945 5.2.3).
		sg.mac, sg.tsigErr = t.MAC, dns.RcodeBadTime
	default:
		sg.tsigErr = dns.RcodeBadSig
	}
	return sg, nil
}

// keyName is the verified key's name, or "" for an unsigned request.
func (sg *signer) keyName() model.Name {
	if sg == nil || sg.tsigErr != 0 {
		return ""
	}
	return sg.key.Name
}

// pack packs m, signing it when the request was signed.
func (sg *signer) pack(m *dns.Msg) ([]byte, error) {
	if sg == nil {
		return m.Pack()
	}
	m.SetTsig(string(sg.key.Name), sg.key.Algorithm+".", tsigFudge, time.Now().Unix())
	t := m.Extra[len(m.Extra)-1].(*dns.TSIG)
	t.OrigId, t.Error = sg.origID, sg.tsigErr
	if sg.tsigErr == dns.RcodeBadTime {
		// Our clock, for the client to see the skew (RFC 8945 5.2.3).
		t.OtherLen, t.OtherData = 6, fmt.Sprintf("%012x", t.TimeSigned)
	}
	out, mac, err := dns.TsigGenerate(m, sg.secret, sg.mac, sg.signed > 0)
	if err != nil {
		return nil, err
	}
	sg.mac = mac
	sg.signed++
	return out, nil
}
