package xfr

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
)

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
	now     func() time.Time // the server's clock, for Time Signed
}

// verify checks the request's TSIG. It returns a nil signer for an
// unsigned request; otherwise a signer for the response, and a TSIG error
// (BADKEY, BADSIG, BADTIME) when the request must be refused with NOTAUTH.
//
// The MAC is checked first, then the time against the server's clock
// (RFC 8945 section 5.2.3): BADTIME when the request was signed more than
// its Fudge away from now, when its Fudge is larger than lim.MaxFudge
// (a longer window would outlast the replay cache), and when it is an
// UPDATE or NOTIFY whose MAC replays has already seen inside its window.
func verify(ctx context.Context, keys Keys, req []byte, m *dns.Msg, now func() time.Time, lim TSIGLimits, replays *replayCache) (*signer, error) {
	t := m.IsTsig()
	if t == nil {
		return nil, nil
	}
	sg := &signer{origID: m.Id, now: now}
	name := dns.CanonicalName(t.Hdr.Name)
	k, err := keys.TSIGKey(ctx, name)
	if err != nil && !errors.Is(err, control.ErrTSIGKeyNotFound) {
		return nil, err
	}
	if k == nil || dns.CanonicalName(t.Algorithm) != k.Algorithm+"." {
		sg.key = &model.TSIGKey{Name: model.Name(name), Algorithm: strings.TrimSuffix(dns.CanonicalName(t.Algorithm), ".")}
		sg.tsigErr = dns.RcodeBadKey
		return sg, nil
	}
	sg.key, sg.secret = k, k.SecretBase64()
	// TsigVerify rewrites the buffer it checks: give it a copy. It checks
	// the time against the system clock after the MAC; the time is checked
	// here again against the server's clock.
	if err := dns.TsigVerify(append([]byte(nil), req...), sg.secret, "", false); err != nil && !errors.Is(err, dns.ErrTime) {
		sg.tsigErr = dns.RcodeBadSig
		return sg, nil
	}
	sg.mac = t.MAC
	at := now()
	signed, sec := int64(t.TimeSigned), at.Unix()
	maxFudge := lim.MaxFudge
	if maxFudge == 0 {
		maxFudge = DefaultMaxFudge
	}
	switch {
	case t.Fudge > maxFudge, sec > signed+int64(t.Fudge), sec < signed-int64(t.Fudge):
		// BADTIME answers are signed, and carry our time (RFC 8945 5.2.3).
		sg.tsigErr = dns.RcodeBadTime
	case m.Opcode == dns.OpcodeUpdate || m.Opcode == dns.OpcodeNotify:
		if replays != nil && replays.seen(name, strings.ToLower(t.MAC), signed+int64(t.Fudge), at) {
			sg.tsigErr = dns.RcodeBadTime
		}
	}
	return sg, nil
}

// misplacedTSIG reports whether m holds a TSIG record anywhere but last
// in its additional section, or more than one (RFC 8945 section 5.1:
// FORMERR).
func misplacedTSIG(m *dns.Msg) bool {
	for _, sec := range [][]dns.RR{m.Answer, m.Ns} {
		for _, rr := range sec {
			if rr.Header().Rrtype == dns.TypeTSIG {
				return true
			}
		}
	}
	for i, rr := range m.Extra {
		if rr.Header().Rrtype == dns.TypeTSIG && i != len(m.Extra)-1 {
			return true
		}
	}
	return false
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
	m.SetTsig(string(sg.key.Name), sg.key.Algorithm+".", model.TSIGFudge, sg.now().Unix())
	t := m.Extra[len(m.Extra)-1].(*dns.TSIG)
	t.OrigId, t.Error = sg.origID, sg.tsigErr
	switch sg.tsigErr {
	case dns.RcodeBadSig, dns.RcodeBadKey:
		// Unsigned, with an empty MAC, but with our time (RFC 8945
		// section 5.3.2). miekg/dns's TsigGenerate would set the time to
		// 0, which dig and nsupdate report as clocks out of step instead
		// of the real error.
		m.Compress = false
		return m.Pack()
	case dns.RcodeBadTime:
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

// signWire signs a message packed elsewhere (RFC 8945 section 4.3): the
// MAC covers the previous MAC (the request's, for the first message), the
// message, and the TSIG variables (only the timers after the first
// message); the TSIG record is appended and ARCOUNT raised. It returns
// msg unchanged when the request was unsigned.
func (sg *signer) signWire(msg []byte) ([]byte, error) {
	if sg == nil {
		return msg, nil
	}
	var h hash.Hash
	switch sg.key.Algorithm {
	case model.TSIGHmacSHA256:
		h = hmac.New(sha256.New, sg.key.Secret)
	case model.TSIGHmacSHA512:
		h = hmac.New(sha512.New, sg.key.Secret)
	case model.TSIGHmacSHA1:
		h = hmac.New(sha1.New, sg.key.Secret)
	default:
		return nil, fmt.Errorf("tsig: no algorithm %q", sg.key.Algorithm)
	}
	prev, err := hex.DecodeString(sg.mac)
	if err != nil {
		return nil, err
	}
	var u16 [2]byte
	if len(prev) > 0 {
		binary.BigEndian.PutUint16(u16[:], uint16(len(prev)))
		h.Write(u16[:])
		h.Write(prev)
	}
	binary.BigEndian.PutUint16(msg[0:], sg.origID)
	h.Write(msg)
	name := model.Name(strings.ToLower(string(sg.key.Name))).Wire()
	alg := model.Name(sg.key.Algorithm + ".").Wire()
	var timers [8]byte // time signed (48 bits), fudge
	now := uint64(sg.now().Unix())
	binary.BigEndian.PutUint16(timers[0:], uint16(now>>32))
	binary.BigEndian.PutUint32(timers[2:], uint32(now))
	binary.BigEndian.PutUint16(timers[6:], model.TSIGFudge)
	if sg.signed == 0 {
		h.Write(name)
		h.Write([]byte{0, 255, 0, 0, 0, 0}) // class ANY, TTL 0
		h.Write(alg)
		h.Write(timers[:])
		h.Write([]byte{0, 0, 0, 0}) // error, other length
	} else {
		h.Write(timers[:])
	}
	mac := h.Sum(nil)

	msg = append(msg, name...)
	msg = append(msg, 0, 250, 0, 255, 0, 0, 0, 0) // TSIG, class ANY, TTL 0
	rdlen := len(alg) + 8 + 2 + len(mac) + 6
	msg = binary.BigEndian.AppendUint16(msg, uint16(rdlen))
	msg = append(msg, alg...)
	msg = append(msg, timers[:]...)
	msg = binary.BigEndian.AppendUint16(msg, uint16(len(mac)))
	msg = append(msg, mac...)
	msg = binary.BigEndian.AppendUint16(msg, sg.origID)
	msg = append(msg, 0, 0, 0, 0) // error, other length
	binary.BigEndian.PutUint16(msg[10:], binary.BigEndian.Uint16(msg[10:])+1)
	sg.mac = hex.EncodeToString(mac)
	sg.signed++
	return msg, nil
}
