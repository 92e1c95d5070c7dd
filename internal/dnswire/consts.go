package dnswire

// Header layout and flag bits (RFC 1035 section 4.1.1, RFC 6895).
const (
	headerLen = 12

	flagQR = 1 << 15
	flagAA = 1 << 10
	flagTC = 1 << 9
	flagRD = 1 << 8
	flagCD = 1 << 4
)

// Opcodes.
const (
	OpcodeQuery  = 0
	OpcodeNotify = 4
	OpcodeUpdate = 5
)

// Implemented reports whether the server implements opcode: QUERY, NOTIFY
// (RFC 1996) and UPDATE (RFC 2136). Every other opcode is answered NOTIMP.
func Implemented(opcode uint8) bool {
	return opcode == OpcodeQuery || opcode == OpcodeNotify || opcode == OpcodeUpdate
}

// Response codes, including the extended ones carried in the OPT record.
const (
	RcodeSuccess  = 0
	RcodeFormErr  = 1
	RcodeServFail = 2
	RcodeNXDomain = 3
	RcodeNotImp   = 4
	RcodeRefused  = 5
	RcodeBadVers  = 16
)

// Types and classes the wire code handles itself.
const (
	typeNS    = 2
	typeCNAME = 5
	typeSOA   = 6
	typePTR   = 12
	typeMX    = 15
	typeOPT   = 41
	typeTSIG  = 250

	ClassINET = 1
)

// Payload sizes (RFC 1035 section 4.2.1, RFC 6891 section 6.2.5, DNS Flag
// Day 2020).
const (
	MinUDPSize     = 512
	DefaultUDPSize = 1232
	MaxMessageSize = 65535
)
