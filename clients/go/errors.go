package wxauth

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Status is a response's kind byte.
type Status uint8

const (
	StatusOK                 Status = 0x00
	StatusMalformedRequest   Status = 0x01
	StatusUnsupportedVersion Status = 0x02
	StatusUnknownOpcode      Status = 0x03
	StatusFrameTooLarge      Status = 0x04
	StatusInvalidToken       Status = 0x10
	StatusTokenExpired       Status = 0x11
	StatusTokenRevoked       Status = 0x12
	StatusUnknownApp         Status = 0x13
	StatusDecryptFailed      Status = 0x14
	StatusSignatureMismatch  Status = 0x15
	StatusWeChatRejected     Status = 0x20
	StatusWeChatUnavailable  Status = 0x21
	StatusRateLimited        Status = 0x30
	StatusServerFull         Status = 0x31
	StatusNotAuthorized      Status = 0x32
	StatusShuttingDown       Status = 0x33
	StatusStoreUnavailable   Status = 0x34
	StatusInternalError      Status = 0x3F
)

var statusNames = map[Status]string{
	StatusOK: "OK", StatusMalformedRequest: "MALFORMED_REQUEST", StatusUnsupportedVersion: "UNSUPPORTED_VERSION",
	StatusUnknownOpcode: "UNKNOWN_OPCODE", StatusFrameTooLarge: "FRAME_TOO_LARGE",
	StatusInvalidToken: "INVALID_TOKEN", StatusTokenExpired: "TOKEN_EXPIRED", StatusTokenRevoked: "TOKEN_REVOKED",
	StatusUnknownApp: "UNKNOWN_APP", StatusDecryptFailed: "DECRYPT_FAILED", StatusSignatureMismatch: "SIGNATURE_MISMATCH",
	StatusWeChatRejected: "WECHAT_REJECTED", StatusWeChatUnavailable: "WECHAT_UNAVAILABLE",
	StatusRateLimited: "RATE_LIMITED", StatusServerFull: "SERVER_FULL", StatusNotAuthorized: "NOT_AUTHORIZED",
	StatusShuttingDown: "SHUTTING_DOWN", StatusStoreUnavailable: "STORE_UNAVAILABLE", StatusInternalError: "INTERNAL_ERROR",
}

// Statuses lists every status this package knows, OK included.
func Statuses() []Status {
	out := make([]Status, 0, len(statusNames))
	for s := range statusNames {
		out = append(out, s)
	}
	return out
}

// Known reports whether the status is one of PROTOCOL.md's.
func (s Status) Known() bool { _, ok := statusNames[s]; return ok }

func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("STATUS_0x%02X", uint8(s))
}

// Retryable is PROTOCOL.md's "retry?" column: yes for WECHAT_UNAVAILABLE, RATE_LIMITED, SERVER_FULL,
// SHUTTING_DOWN, STORE_UNAVAILABLE and INTERNAL_ERROR; no for the rest and for statuses this client does not know.
func (s Status) Retryable() bool {
	switch s {
	case StatusWeChatUnavailable, StatusRateLimited, StatusServerFull, StatusShuttingDown, StatusStoreUnavailable,
		StatusInternalError:
		return true
	}
	return false
}

// DecryptReason is DECRYPT_FAILED's reason byte.
type DecryptReason uint8

const (
	ReasonBadBase64       DecryptReason = 1
	ReasonBadKeyLength    DecryptReason = 2
	ReasonBadIVLength     DecryptReason = 3
	ReasonBadPaddingOrKey DecryptReason = 4
	ReasonAppIDMismatch   DecryptReason = 5
	ReasonStaleWatermark  DecryptReason = 6
)

var reasonNames = map[DecryptReason]string{
	ReasonBadBase64: "bad_base64", ReasonBadKeyLength: "bad_key_length", ReasonBadIVLength: "bad_iv_length",
	ReasonBadPaddingOrKey: "bad_padding_or_key", ReasonAppIDMismatch: "appid_mismatch",
	ReasonStaleWatermark: "stale_watermark",
}

// Reasons lists the reasons this package knows.
func Reasons() []DecryptReason {
	return []DecryptReason{ReasonBadBase64, ReasonBadKeyLength, ReasonBadIVLength, ReasonBadPaddingOrKey,
		ReasonAppIDMismatch, ReasonStaleWatermark}
}

func (r DecryptReason) String() string {
	if n, ok := reasonNames[r]; ok {
		return n
	}
	return fmt.Sprintf("reason_%d", uint8(r))
}

// Effective is the reason to act on: an unknown reason is treated like bad_padding_or_key (PROTOCOL.md).
func (r DecryptReason) Effective() DecryptReason {
	if _, ok := reasonNames[r]; ok {
		return r
	}
	return ReasonBadPaddingOrKey
}

// Error is a non-OK status from the server. Fields the status does not carry are zero. Message is the server's
// human-readable text, which never contains a token, session_key or secret.
type Error struct {
	Status       Status
	Message      string
	RequestID    uint32
	Errcode      int32         // WECHAT_REJECTED, WECHAT_UNAVAILABLE, RATE_LIMITED
	RetryAfterMs uint32        // RATE_LIMITED
	Supported    uint8         // UNSUPPORTED_VERSION
	MaxFrame     uint32        // FRAME_TOO_LARGE
	Reason       DecryptReason // DECRYPT_FAILED
	Body         []byte        // the raw error body
}

func (e *Error) Error() string {
	s := "wxauth: " + e.Status.String()
	switch e.Status {
	case StatusDecryptFailed:
		s += " (" + e.Reason.String() + ")"
	case StatusWeChatRejected, StatusWeChatUnavailable:
		s += fmt.Sprintf(" errcode=%d", e.Errcode)
	case StatusRateLimited:
		s += fmt.Sprintf(" retry_after_ms=%d errcode=%d", e.RetryAfterMs, e.Errcode)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Retryable reports the status's "retry?" column.
func (e *Error) Retryable() bool { return e.Status.Retryable() }

// Is makes errors.Is(err, wxauth.ErrInvalidToken) (and the other status sentinels) match by status.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Status == e.Status
}

// Sentinels for errors.Is, one per status.
var (
	ErrMalformedRequest   = &Error{Status: StatusMalformedRequest}
	ErrUnsupportedVersion = &Error{Status: StatusUnsupportedVersion}
	ErrUnknownOpcode      = &Error{Status: StatusUnknownOpcode}
	ErrFrameTooLarge      = &Error{Status: StatusFrameTooLarge}
	ErrInvalidToken       = &Error{Status: StatusInvalidToken}
	ErrTokenExpired       = &Error{Status: StatusTokenExpired}
	ErrTokenRevoked       = &Error{Status: StatusTokenRevoked}
	ErrUnknownApp         = &Error{Status: StatusUnknownApp}
	ErrDecryptFailed      = &Error{Status: StatusDecryptFailed}
	ErrSignatureMismatch  = &Error{Status: StatusSignatureMismatch}
	ErrWeChatRejected     = &Error{Status: StatusWeChatRejected}
	ErrWeChatUnavailable  = &Error{Status: StatusWeChatUnavailable}
	ErrRateLimited        = &Error{Status: StatusRateLimited}
	ErrServerFull         = &Error{Status: StatusServerFull}
	ErrNotAuthorized      = &Error{Status: StatusNotAuthorized}
	ErrShuttingDown       = &Error{Status: StatusShuttingDown}
	ErrStoreUnavailable   = &Error{Status: StatusStoreUnavailable}
	ErrInternalError      = &Error{Status: StatusInternalError}
)

// IsTokenUnusable reports INVALID_TOKEN, TOKEN_EXPIRED or TOKEN_REVOKED: the user must log in again.
func IsTokenUnusable(err error) bool {
	return errors.Is(err, ErrInvalidToken) || errors.Is(err, ErrTokenExpired) || errors.Is(err, ErrTokenRevoked)
}

// Retryable reports whether err (or an error it wraps) says the request may be retried.
func Retryable(err error) bool {
	var r interface{ Retryable() bool }
	return errors.As(err, &r) && r.Retryable()
}

// ---- error bodies: the one place that knows their layouts ---------------------------------------------------

// DecodeErrorBody decodes the body of a non-OK status. Every error body is `message str` first, then the status's
// own fields (PROTOCOL.md "Responses and statuses"). A known status's body is consumed exactly; a status this client
// does not know has its message read and the rest of its body skipped (later versions may add fields there).
func DecodeErrorBody(status Status, requestID uint32, body []byte) (*Error, error) {
	e := &Error{Status: status, RequestID: requestID, Body: append([]byte(nil), body...)}
	r := &reader{buf: body}
	e.Message = r.str("message", false)
	if !status.Known() || status == StatusOK {
		if r.err != nil {
			return nil, r.err
		}
		return e, nil // the rest of an unknown status's body is skipped
	}
	switch status {
	case StatusUnsupportedVersion:
		e.Supported = r.u8("supported")
	case StatusFrameTooLarge:
		e.MaxFrame = r.u32("max_frame")
	case StatusWeChatRejected, StatusWeChatUnavailable:
		e.Errcode = r.i32("errcode")
	case StatusRateLimited:
		e.RetryAfterMs = r.u32("retry_after_ms")
		e.Errcode = r.i32("errcode")
	case StatusDecryptFailed:
		e.Reason = DecryptReason(r.u8("reason"))
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	return e, nil
}

// EncodeErrorBody is DecodeErrorBody's inverse (tests and fake servers). An unknown status sends e.Body as is.
func EncodeErrorBody(e *Error) []byte {
	if !e.Status.Known() {
		return append([]byte(nil), e.Body...)
	}
	b := appendStrRaw(nil, e.Message)
	switch e.Status {
	case StatusUnsupportedVersion:
		b = append(b, e.Supported)
	case StatusFrameTooLarge:
		b = binary.BigEndian.AppendUint32(b, e.MaxFrame)
	case StatusWeChatRejected, StatusWeChatUnavailable:
		b = binary.BigEndian.AppendUint32(b, uint32(e.Errcode))
	case StatusRateLimited:
		b = binary.BigEndian.AppendUint32(b, e.RetryAfterMs)
		b = binary.BigEndian.AppendUint32(b, uint32(e.Errcode))
	case StatusDecryptFailed:
		b = append(b, uint8(e.Reason))
	}
	return b
}

// EncodeError returns the complete error response frame.
func EncodeError(requestID uint32, e *Error) []byte {
	return EncodeFrame(Version, uint8(e.Status), requestID, EncodeErrorBody(e))
}

// ---- local errors ----------------------------------------------------------------------------------------------

// Codes of DecodeError, named like the "invalid" test vectors.
const (
	CodeMalformed          = "malformed"
	CodeFrameTooShort      = "frame_too_short"
	CodeFrameTooLarge      = "frame_too_large"
	CodeUnknownOpcode      = "unknown_opcode"
	CodeUnsupportedVersion = "unsupported_version"
)

// DecodeError is bytes that do not follow the wire format.
type DecodeError struct {
	Code string
	Msg  string
}

func (e *DecodeError) Error() string { return "wxauth: " + e.Code + ": " + e.Msg }

func decodeErr(code, format string, args ...interface{}) error {
	return &DecodeError{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// FieldLimitError is a request field outside PROTOCOL.md's limits; nothing was sent.
type FieldLimitError struct {
	Field string
	Msg   string
}

func (e *FieldLimitError) Error() string { return "wxauth: " + e.Field + ": " + e.Msg }

// Sentinels of local failures.
var (
	// ErrConnectionLost: the connection failed or closed before the response arrived; the request may have run.
	ErrConnectionLost = errors.New("wxauth: connection lost")
	// ErrTimeout: no response in time; the request may still have run.
	ErrTimeout = errors.New("wxauth: timeout")
	// ErrProtocol: the server sent something that does not follow the protocol.
	ErrProtocol = errors.New("wxauth: protocol error")
	// ErrClosed: the client was closed.
	ErrClosed = errors.New("wxauth: client closed")
)

// ConnError is a connection-level failure (dial, HELLO, read, write, closed by the peer, undecodable frames).
type ConnError struct {
	Addr string
	Msg  string
	Kind error // ErrConnectionLost or ErrProtocol
	Err  error // the underlying cause, if any
}

func (e *ConnError) Error() string {
	s := e.Kind.Error() + " (" + e.Addr + "): " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Retryable: a lost connection may be retried on a new one (the request may have run: see the README).
func (e *ConnError) Retryable() bool { return e.Kind == ErrConnectionLost }

func (e *ConnError) Is(target error) bool { return target == e.Kind }
func (e *ConnError) Unwrap() error        { return e.Err }

// TimeoutError is a request whose context ended before the response; errors.Is matches ErrTimeout and the
// context's error (context.DeadlineExceeded or context.Canceled).
type TimeoutError struct {
	Op  Op
	Err error
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("wxauth: %s: no response: %v", e.Op, e.Err)
}
func (e *TimeoutError) Retryable() bool      { return true }
func (e *TimeoutError) Is(target error) bool { return target == ErrTimeout }
func (e *TimeoutError) Unwrap() error        { return e.Err }
