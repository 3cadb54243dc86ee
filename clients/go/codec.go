package wxauth

// The wire format of protocol/PROTOCOL.md, version 1: frames, request and response bodies. Pure functions, no I/O.
// Both directions are implemented (requests are also decoded and responses also encoded) so that the shared test
// vectors can be checked in full and tests can script a fake server.
//
// Frame: length u32 | version u8 | kind u8 | request_id u32 | body; length counts the 6 header bytes plus the body.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"unicode/utf8"
)

const (
	// Version is the protocol version this package speaks.
	Version = 1
	// HeaderSize is version + kind + request id.
	HeaderSize = 6
	// DefaultMaxFrame is the server's default max-frame.
	DefaultMaxFrame = 65536
	// MaxIncomingFrame bounds what the client accepts from a server (responses are small; this only bounds memory).
	MaxIncomingFrame = 4 << 20
	// NonceSize and ProofSize are HELLO's nonce and AUTH's proof lengths.
	NonceSize = 32
	ProofSize = 32
	// HelloFlagAuthRequired is HELLO's flags bit 0.
	HelloFlagAuthRequired = 0x01
)

var authContext = []byte("wxauth-auth-v1")

// Op is a request opcode. OpHello (0) is never sent: it names the server's greeting frame.
type Op uint8

const (
	OpHello           Op = 0x00
	OpPing            Op = 0x01
	OpAuth            Op = 0x02
	OpLogin           Op = 0x10
	OpValidate        Op = 0x11
	OpRefresh         Op = 0x12
	OpRevoke          Op = 0x13
	OpRevokeUser      Op = 0x14
	OpDecrypt         Op = 0x20
	OpVerifySignature Op = 0x21
	OpPhoneNumber     Op = 0x22
	OpCheckSessionKey Op = 0x23
	OpResetSessionKey Op = 0x24
)

var opNames = map[Op]string{
	OpHello: "HELLO", OpPing: "PING", OpAuth: "AUTH", OpLogin: "LOGIN", OpValidate: "VALIDATE",
	OpRefresh: "REFRESH", OpRevoke: "REVOKE", OpRevokeUser: "REVOKE_USER", OpDecrypt: "DECRYPT",
	OpVerifySignature: "VERIFY_SIGNATURE", OpPhoneNumber: "PHONE_NUMBER", OpCheckSessionKey: "CHECK_SESSION_KEY",
	OpResetSessionKey: "RESET_SESSION_KEY",
}

// Ops lists every opcode, HELLO included.
func Ops() []Op {
	return []Op{OpHello, OpPing, OpAuth, OpLogin, OpValidate, OpRefresh, OpRevoke, OpRevokeUser, OpDecrypt,
		OpVerifySignature, OpPhoneNumber, OpCheckSessionKey, OpResetSessionKey}
}

func (o Op) String() string {
	if n, ok := opNames[o]; ok {
		return n
	}
	return fmt.Sprintf("OP_0x%02X", uint8(o))
}

// Permission bits (AUTH's answer and caller configuration).
const (
	PermPing            uint32 = 1
	PermLogin           uint32 = 2
	PermValidate        uint32 = 4
	PermRefresh         uint32 = 8
	PermRevoke          uint32 = 16
	PermRevokeUser      uint32 = 32
	PermDecrypt         uint32 = 64
	PermVerifySignature uint32 = 128
	PermPhoneNumber     uint32 = 256
	PermCheckSessionKey uint32 = 512
	PermResetSessionKey uint32 = 1024
	PermAll             uint32 = 2047
)

// Field limits (byte lengths) from PROTOCOL.md; longer or shorter is MALFORMED_REQUEST.
var fieldLimits = map[string][2]int{
	"app_id": {1, 64}, "code": {1, 256}, "token": {1, 128}, "openid": {1, 128}, "caller_id": {1, 64},
	"encrypted_data": {1, 60000}, "iv": {1, 64}, "raw_data": {0, 60000}, "signature": {1, 128},
}

// AuthProof is HMAC-SHA256(key = the caller secret's bytes, message = "wxauth-auth-v1" || nonce).
func AuthProof(secret, nonce []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(authContext)
	m.Write(nonce)
	return m.Sum(nil)
}

// ---- frames ------------------------------------------------------------------------------------------------

// Frame is one decoded frame; Kind is the opcode of a request or the status of a response.
type Frame struct {
	Version   uint8
	Kind      uint8
	RequestID uint32
	Body      []byte
}

// EncodeFrame returns the complete frame, length prefix included.
func EncodeFrame(version, kind uint8, requestID uint32, body []byte) []byte {
	out := make([]byte, 4+HeaderSize+len(body))
	binary.BigEndian.PutUint32(out, uint32(HeaderSize+len(body)))
	out[4] = version
	out[5] = kind
	binary.BigEndian.PutUint32(out[6:], requestID)
	copy(out[10:], body)
	return out
}

// checkLength judges a length prefix alone, before any body byte is waited for.
func checkLength(length uint32, maxFrame uint32) error {
	if length < HeaderSize {
		return decodeErr(CodeFrameTooShort, "length %d is below the %d-byte header", length, HeaderSize)
	}
	if length > maxFrame {
		return decodeErr(CodeFrameTooLarge, "length %d exceeds the limit of %d", length, maxFrame)
	}
	return nil
}

// ReadFrame reads one frame. A bad length prefix is reported as soon as its four bytes are read.
func ReadFrame(r io.Reader, maxFrame uint32) (Frame, error) {
	var prefix [4 + HeaderSize]byte
	if _, err := io.ReadFull(r, prefix[:4]); err != nil {
		return Frame{}, err
	}
	length := binary.BigEndian.Uint32(prefix[:4])
	if err := checkLength(length, maxFrame); err != nil {
		return Frame{}, err
	}
	if _, err := io.ReadFull(r, prefix[4:]); err != nil {
		return Frame{}, unexpectedEOF(err)
	}
	body := make([]byte, length-HeaderSize)
	if _, err := io.ReadFull(r, body); err != nil {
		return Frame{}, unexpectedEOF(err)
	}
	return Frame{prefix[4], prefix[5], binary.BigEndian.Uint32(prefix[6:]), body}, nil
}

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// ParseFrame decodes exactly one complete frame held in data.
func ParseFrame(data []byte, maxFrame uint32) (Frame, error) {
	if len(data) < 4 {
		return Frame{}, decodeErr(CodeMalformed, "%d bytes, no length prefix", len(data))
	}
	length := binary.BigEndian.Uint32(data)
	if err := checkLength(length, maxFrame); err != nil {
		return Frame{}, err
	}
	if uint64(len(data)-4) != uint64(length) {
		return Frame{}, decodeErr(CodeMalformed, "length prefix says %d bytes, %d follow", length, len(data)-4)
	}
	return Frame{data[4], data[5], binary.BigEndian.Uint32(data[6:]), append([]byte(nil), data[10:]...)}, nil
}

// ---- primitive writer and reader ---------------------------------------------------------------------------

func appendStr(b []byte, field, v string) ([]byte, error) {
	if lim, ok := fieldLimits[field]; ok && (len(v) < lim[0] || len(v) > lim[1]) {
		return nil, &FieldLimitError{Field: field, Msg: fmt.Sprintf("%d bytes, must be %d..%d", len(v), lim[0], lim[1])}
	}
	if len(v) > 0xFFFF {
		return nil, &FieldLimitError{Field: field, Msg: "longer than 65535 bytes"}
	}
	if !utf8.ValidString(v) {
		return nil, &FieldLimitError{Field: field, Msg: "not valid UTF-8"}
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...), nil
}

func appendBytes(b []byte, field string, v []byte) ([]byte, error) {
	if len(v) > 0xFFFF {
		return nil, &FieldLimitError{Field: field, Msg: "longer than 65535 bytes"}
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...), nil
}

// reader reads the fields of one body; the first failure sticks and is a malformed DecodeError.
type reader struct {
	buf []byte
	pos int
	err error
}

func (r *reader) take(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n > len(r.buf)-r.pos {
		r.err = decodeErr(CodeMalformed, "%s: needs %d bytes, %d left", what, n, len(r.buf)-r.pos)
		return nil
	}
	out := r.buf[r.pos : r.pos+n]
	r.pos += n
	return out
}

func (r *reader) u8(what string) uint8 {
	if b := r.take(1, what); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) u16(what string) uint16 {
	if b := r.take(2, what); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (r *reader) u32(what string) uint32 {
	if b := r.take(4, what); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (r *reader) i32(what string) int32 { return int32(r.u32(what)) }

func (r *reader) i64(what string) int64 {
	if b := r.take(8, what); b != nil {
		return int64(binary.BigEndian.Uint64(b))
	}
	return 0
}

func (r *reader) blob(what string) []byte {
	n := r.u16(what)
	return r.take(int(n), what)
}

// str reads a str; with limits (a request field) its length is checked too.
func (r *reader) str(what string, limited bool) string {
	raw := r.blob(what)
	if r.err != nil {
		return ""
	}
	if lim, ok := fieldLimits[what]; limited && ok && (len(raw) < lim[0] || len(raw) > lim[1]) {
		r.err = decodeErr(CodeMalformed, "%s: %d bytes, must be %d..%d", what, len(raw), lim[0], lim[1])
		return ""
	}
	if !utf8.Valid(raw) {
		r.err = decodeErr(CodeMalformed, "%s: invalid UTF-8", what)
		return ""
	}
	return string(raw)
}

// end checks that the body was consumed exactly.
func (r *reader) end() error {
	if r.err == nil && r.pos != len(r.buf) {
		r.err = decodeErr(CodeMalformed, "%d trailing bytes after the body", len(r.buf)-r.pos)
	}
	return r.err
}

// ---- requests ----------------------------------------------------------------------------------------------

// Request is one request body; the client adds the frame header and request id.
type Request interface {
	Op() Op
	AppendBody(b []byte) ([]byte, error)
}

type (
	Ping struct{}
	Auth struct {
		CallerID string
		Proof    []byte
	}
	Login           struct{ AppID, Code string }
	Validate        struct{ Token string }
	Refresh         struct{ Token string }
	Revoke          struct{ Token string }
	RevokeUser      struct{ AppID, OpenID string }
	Decrypt         struct{ Token, EncryptedData, IV string }
	VerifySignature struct{ Token, RawData, Signature string }
	PhoneNumber     struct{ Token, Code string }
	CheckSessionKey struct{ Token string }
	ResetSessionKey struct{ Token string }
)

func (Ping) Op() Op            { return OpPing }
func (Auth) Op() Op            { return OpAuth }
func (Login) Op() Op           { return OpLogin }
func (Validate) Op() Op        { return OpValidate }
func (Refresh) Op() Op         { return OpRefresh }
func (Revoke) Op() Op          { return OpRevoke }
func (RevokeUser) Op() Op      { return OpRevokeUser }
func (Decrypt) Op() Op         { return OpDecrypt }
func (VerifySignature) Op() Op { return OpVerifySignature }
func (PhoneNumber) Op() Op     { return OpPhoneNumber }
func (CheckSessionKey) Op() Op { return OpCheckSessionKey }
func (ResetSessionKey) Op() Op { return OpResetSessionKey }

// strs appends several str fields, stopping at the first error.
func strs(b []byte, pairs ...string) ([]byte, error) {
	var err error
	for i := 0; i < len(pairs); i += 2 {
		if b, err = appendStr(b, pairs[i], pairs[i+1]); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func (Ping) AppendBody(b []byte) ([]byte, error) { return b, nil }
func (r Auth) AppendBody(b []byte) ([]byte, error) {
	if len(r.Proof) != ProofSize {
		return nil, &FieldLimitError{Field: "proof", Msg: fmt.Sprintf("%d bytes, must be %d", len(r.Proof), ProofSize)}
	}
	b, err := appendStr(b, "caller_id", r.CallerID)
	if err != nil {
		return nil, err
	}
	return appendBytes(b, "proof", r.Proof)
}
func (r Login) AppendBody(b []byte) ([]byte, error) {
	return strs(b, "app_id", r.AppID, "code", r.Code)
}
func (r Validate) AppendBody(b []byte) ([]byte, error) { return strs(b, "token", r.Token) }
func (r Refresh) AppendBody(b []byte) ([]byte, error)  { return strs(b, "token", r.Token) }
func (r Revoke) AppendBody(b []byte) ([]byte, error)   { return strs(b, "token", r.Token) }
func (r RevokeUser) AppendBody(b []byte) ([]byte, error) {
	return strs(b, "app_id", r.AppID, "openid", r.OpenID)
}
func (r Decrypt) AppendBody(b []byte) ([]byte, error) {
	return strs(b, "token", r.Token, "encrypted_data", r.EncryptedData, "iv", r.IV)
}
func (r VerifySignature) AppendBody(b []byte) ([]byte, error) {
	return strs(b, "token", r.Token, "raw_data", r.RawData, "signature", r.Signature)
}
func (r PhoneNumber) AppendBody(b []byte) ([]byte, error) {
	return strs(b, "token", r.Token, "code", r.Code)
}
func (r CheckSessionKey) AppendBody(b []byte) ([]byte, error) { return strs(b, "token", r.Token) }
func (r ResetSessionKey) AppendBody(b []byte) ([]byte, error) { return strs(b, "token", r.Token) }

// EncodeRequest returns the complete frame of one request.
func EncodeRequest(requestID uint32, req Request) ([]byte, error) {
	body, err := req.AppendBody(nil)
	if err != nil {
		return nil, err
	}
	return EncodeFrame(Version, uint8(req.Op()), requestID, body), nil
}

// DecodeRequest decodes a request frame the way a server must (version, opcode, exact body, field limits).
func DecodeRequest(data []byte, maxFrame uint32) (uint32, Request, error) {
	f, err := ParseFrame(data, maxFrame)
	if err != nil {
		return 0, nil, err
	}
	if f.Version != Version {
		return 0, nil, decodeErr(CodeUnsupportedVersion, "protocol version %d is not supported", f.Version)
	}
	r := &reader{buf: f.Body}
	var req Request
	switch Op(f.Kind) {
	case OpPing:
		req = Ping{}
	case OpAuth:
		a := Auth{CallerID: r.str("caller_id", true), Proof: r.blob("proof")}
		if r.err == nil && len(a.Proof) != ProofSize {
			r.err = decodeErr(CodeMalformed, "proof: %d bytes, must be %d", len(a.Proof), ProofSize)
		}
		req = a
	case OpLogin:
		req = Login{r.str("app_id", true), r.str("code", true)}
	case OpValidate:
		req = Validate{r.str("token", true)}
	case OpRefresh:
		req = Refresh{r.str("token", true)}
	case OpRevoke:
		req = Revoke{r.str("token", true)}
	case OpRevokeUser:
		req = RevokeUser{r.str("app_id", true), r.str("openid", true)}
	case OpDecrypt:
		req = Decrypt{r.str("token", true), r.str("encrypted_data", true), r.str("iv", true)}
	case OpVerifySignature:
		req = VerifySignature{r.str("token", true), r.str("raw_data", true), r.str("signature", true)}
	case OpPhoneNumber:
		req = PhoneNumber{r.str("token", true), r.str("code", true)}
	case OpCheckSessionKey:
		req = CheckSessionKey{r.str("token", true)}
	case OpResetSessionKey:
		req = ResetSessionKey{r.str("token", true)}
	default:
		return 0, nil, decodeErr(CodeUnknownOpcode, "unknown opcode 0x%02x", f.Kind)
	}
	if err := r.end(); err != nil {
		return 0, nil, err
	}
	return f.RequestID, req, nil
}

// ---- OK response bodies ------------------------------------------------------------------------------------

// Session is the public view of a session (never the session_key). Times are Unix milliseconds, UTC.
type Session struct {
	AppID             string
	OpenID            string
	UnionID           string // empty when WeChat gave none
	CreatedAt         int64
	ExpiresAt         int64 // the earlier of the idle deadline and the absolute deadline
	AbsoluteExpiresAt int64 // never extended
}

// Hello is the server's greeting.
type Hello struct {
	Flags    uint8
	Nonce    []byte
	MaxFrame uint32
}

// AuthRequired reports HELLO's flags bit 0.
func (h Hello) AuthRequired() bool { return h.Flags&HelloFlagAuthRequired != 0 }

// Pong is PING's answer: the server's clock in Unix milliseconds.
type Pong struct{ ServerTime int64 }

// AuthResult is AUTH's answer.
type AuthResult struct{ Permissions uint32 }

// TokenResult is LOGIN's and REFRESH's answer: the (new) token and its session.
type TokenResult struct {
	Token   string
	Session Session
}

// String never shows the token.
func (t TokenResult) String() string {
	return fmt.Sprintf("TokenResult{token:<redacted>, session:%+v}", t.Session)
}

// Empty is the body of REVOKE, VERIFY_SIGNATURE and RESET_SESSION_KEY.
type Empty struct{}

// RevokedCount is REVOKE_USER's answer.
type RevokedCount struct{ Revoked uint32 }

// DecryptResult is DECRYPT's answer: the plaintext JSON, watermark included.
type DecryptResult struct{ Data string }

// PhoneNumberResult is PHONE_NUMBER's answer.
type PhoneNumberResult struct {
	PhoneNumber     string
	PurePhoneNumber string
	CountryCode     string
}

// SessionKeyCheck is CHECK_SESSION_KEY's answer.
type SessionKeyCheck struct{ Current bool }

func readSession(r *reader) Session {
	return Session{r.str("session.app_id", false), r.str("session.openid", false), r.str("session.unionid", false),
		r.i64("session.created_at"), r.i64("session.expires_at"), r.i64("session.absolute_expires_at")}
}

// DecodeOK decodes the OK body of a response to op. The result is one of Hello, Pong, AuthResult, TokenResult,
// Session, Empty, RevokedCount, DecryptResult, PhoneNumberResult, SessionKeyCheck.
func DecodeOK(op Op, body []byte) (interface{}, error) {
	r := &reader{buf: body}
	var out interface{}
	switch op {
	case OpHello:
		h := Hello{Flags: r.u8("flags"), Nonce: append([]byte(nil), r.blob("nonce")...), MaxFrame: r.u32("max_frame")}
		if r.err == nil && len(h.Nonce) != NonceSize {
			r.err = decodeErr(CodeMalformed, "nonce: %d bytes, must be %d", len(h.Nonce), NonceSize)
		}
		out = h
	case OpPing:
		out = Pong{r.i64("server_time")}
	case OpAuth:
		out = AuthResult{r.u32("permissions")}
	case OpLogin, OpRefresh:
		out = TokenResult{r.str("token", false), readSession(r)}
	case OpValidate:
		out = readSession(r)
	case OpRevoke, OpVerifySignature, OpResetSessionKey:
		out = Empty{}
	case OpRevokeUser:
		out = RevokedCount{r.u32("revoked")}
	case OpDecrypt:
		out = DecryptResult{r.str("data", false)}
	case OpPhoneNumber:
		out = PhoneNumberResult{r.str("phone_number", false), r.str("pure_phone_number", false), r.str("country_code", false)}
	case OpCheckSessionKey:
		v := r.u8("current")
		if r.err == nil && v > 1 {
			r.err = decodeErr(CodeMalformed, "current: %d is not 0 or 1", v)
		}
		out = SessionKeyCheck{v == 1}
	default:
		return nil, decodeErr(CodeMalformed, "no OK body is defined for opcode 0x%02x", uint8(op))
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	return out, nil
}

func appendSession(b []byte, s Session) []byte {
	b = appendStrRaw(b, s.AppID)
	b = appendStrRaw(b, s.OpenID)
	b = appendStrRaw(b, s.UnionID)
	b = binary.BigEndian.AppendUint64(b, uint64(s.CreatedAt))
	b = binary.BigEndian.AppendUint64(b, uint64(s.ExpiresAt))
	return binary.BigEndian.AppendUint64(b, uint64(s.AbsoluteExpiresAt))
}

// appendStrRaw writes a str without field limits (responses), truncating nothing: callers pass valid values.
func appendStrRaw(b []byte, v string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...)
}

// EncodeOK returns the complete OK response frame for body (tests and fake servers).
func EncodeOK(requestID uint32, body interface{}) ([]byte, error) {
	var b []byte
	switch v := body.(type) {
	case Hello:
		b = append(b, v.Flags)
		b = binary.BigEndian.AppendUint16(b, uint16(len(v.Nonce)))
		b = append(b, v.Nonce...)
		b = binary.BigEndian.AppendUint32(b, v.MaxFrame)
	case Pong:
		b = binary.BigEndian.AppendUint64(b, uint64(v.ServerTime))
	case AuthResult:
		b = binary.BigEndian.AppendUint32(b, v.Permissions)
	case TokenResult:
		b = appendSession(appendStrRaw(b, v.Token), v.Session)
	case Session:
		b = appendSession(b, v)
	case Empty:
	case RevokedCount:
		b = binary.BigEndian.AppendUint32(b, v.Revoked)
	case DecryptResult:
		b = appendStrRaw(b, v.Data)
	case PhoneNumberResult:
		b = appendStrRaw(appendStrRaw(appendStrRaw(b, v.PhoneNumber), v.PurePhoneNumber), v.CountryCode)
	case SessionKeyCheck:
		if v.Current {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	default:
		return nil, fmt.Errorf("wxauth: no OK body encoding for %T", body)
	}
	return EncodeFrame(Version, uint8(StatusOK), requestID, b), nil
}

// String methods of the requests never show tokens, codes, proofs or user data.

func (r Auth) String() string   { return "Auth{caller_id:" + r.CallerID + ", proof:<redacted>}" }
func (r Login) String() string  { return "Login{app_id:" + r.AppID + ", code:<redacted>}" }
func (Validate) String() string { return "Validate{token:<redacted>}" }
func (Refresh) String() string  { return "Refresh{token:<redacted>}" }
func (Revoke) String() string   { return "Revoke{token:<redacted>}" }
func (r RevokeUser) String() string {
	return "RevokeUser{app_id:" + r.AppID + ", openid:" + r.OpenID + "}"
}
func (Decrypt) String() string {
	return "Decrypt{token:<redacted>, encrypted_data:<redacted>, iv:<redacted>}"
}
func (VerifySignature) String() string {
	return "VerifySignature{token:<redacted>, raw_data:<redacted>, signature:<redacted>}"
}
func (PhoneNumber) String() string     { return "PhoneNumber{token:<redacted>, code:<redacted>}" }
func (CheckSessionKey) String() string { return "CheckSessionKey{token:<redacted>}" }
func (ResetSessionKey) String() string { return "ResetSessionKey{token:<redacted>}" }
