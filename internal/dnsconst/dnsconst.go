// Package dnsconst holds the DNS protocol numbers the query path works
// with: header layout and flag bits, opcodes, response codes, record types
// and classes, EDNS(0) option codes and flags, and message and name sizes.
//
// The query path (internal/dnsserver, internal/dnswire, internal/zone,
// internal/steer) depends on it, and every package that needs one of these
// numbers takes it from here rather than keeping a copy. It is a leaf: it
// imports nothing (test/policy checks that it imports only the standard
// library). Code at the edges that already parses and packs messages with
// github.com/miekg/dns (internal/model, internal/zonefile, internal/xfr)
// keeps using that package's constants.
//
// The constants are untyped, so that they compare with a uint16 type field,
// an int rcode or a uint8 opcode alike.
package dnsconst

// Header layout and flag bits (RFC 1035 section 4.1.1, RFC 6895 section 2).
const (
	HeaderLen = 12 // octets of the fixed header

	FlagQR = 1 << 15 // response
	FlagAA = 1 << 10 // authoritative answer
	FlagTC = 1 << 9  // truncated
	FlagRD = 1 << 8  // recursion desired
	FlagRA = 1 << 7  // recursion available
	FlagAD = 1 << 5  // authentic data (RFC 4035)
	FlagCD = 1 << 4  // checking disabled (RFC 4035)

	OpcodeShift = 11  // the opcode's place in the flags word
	OpcodeMask  = 0xF // the opcode's bits, once shifted down
	RcodeMask   = 0xF // the header's four rcode bits (the rest are in OPT)
)

// Opcodes (RFC 1035, RFC 1996, RFC 2136).
const (
	OpcodeQuery  = 0
	OpcodeNotify = 4
	OpcodeUpdate = 5
)

// Response codes, including the extended ones carried in the OPT record
// (RFC 1035, RFC 2136, RFC 6891).
const (
	RcodeSuccess  = 0
	RcodeFormErr  = 1
	RcodeServFail = 2
	RcodeNXDomain = 3
	RcodeNotImp   = 4
	RcodeRefused  = 5
	RcodeBadVers  = 16
	// RcodeBadCookie answers a request for a server cookie with an
	// invalid one (RFC 7873 sections 5.4 and 8).
	RcodeBadCookie = 23
)

// Record and query types.
const (
	TypeA     = 1
	TypeNS    = 2
	TypeCNAME = 5
	TypeSOA   = 6
	TypePTR   = 12
	TypeMX    = 15
	TypeTXT   = 16
	TypeAAAA  = 28
	TypeSRV   = 33
	TypeOPT   = 41
	TypeDS    = 43
	TypeTSIG  = 250
	TypeIXFR  = 251
	TypeAXFR  = 252
	TypeANY   = 255
)

// Classes.
const (
	ClassINET  = 1
	ClassCHAOS = 3
	ClassANY   = 255
)

// EDNS(0) (RFC 6891): the DO flag in the OPT record's TTL (RFC 3225), the
// option codes the server reads, and the address families of the client
// subnet option (RFC 7871 section 6).
const (
	EDNSFlagDO = 1 << 15

	OptionNSID   = 3  // RFC 5001
	OptionECS    = 8  // RFC 7871
	OptionCookie = 10 // RFC 7873

	ECSFamilyIPv4 = 1
	ECSFamilyIPv6 = 2
)

// Sizes in octets.
const (
	// MinUDPSize is the UDP payload every requester accepts (RFC 1035
	// section 4.2.1), and the most a requester without EDNS gets.
	MinUDPSize = 512
	// DefaultUDPSize is the payload size the server offers in its OPT
	// record unless configured otherwise (DNS Flag Day 2020).
	DefaultUDPSize = 1232
	// MaxUDPSize is the largest UDP payload size the server may be
	// configured to offer.
	MaxUDPSize = 4096
	// MaxMessageSize is the most a message can hold: the limit of TCP's
	// two-octet length prefix (RFC 1035 section 4.2.2).
	MaxMessageSize = 65535
	// MaxNameLen is the longest a name can be in wire format (RFC 1035
	// section 2.3.4).
	MaxNameLen = 255
)
