package wxauth_test

// Every entry of protocol/vectors/vectors.json, read from the file at test time.

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	wxauth "github.com/wxauth/wxauth/clients/go"
	"github.com/wxauth/wxauth/clients/go/internal/wxtest"
)

type vector struct {
	Name    string                 `json:"name"`
	Hex     string                 `json:"hex"`
	Decoded map[string]interface{} `json:"decoded"`
	Expect  string                 `json:"expect"`
}

type vectorFile struct {
	ProtocolVersion int            `json:"protocol_version"`
	Opcodes         map[string]int `json:"opcodes"`
	Statuses        map[string]int `json:"statuses"`
	Reasons         map[string]int `json:"decrypt_failure_reasons"`
	Requests        []vector       `json:"requests"`
	Responses       []vector       `json:"responses"`
	Invalid         []vector       `json:"invalid"`
	UnknownStatuses []vector       `json:"unknown_statuses"`
	AuthProofs      []authProof    `json:"auth_proofs"`
}

type authProof struct {
	Secret   string `json:"secret"`
	NonceHex string `json:"nonce_hex"`
	ProofHex string `json:"proof_hex"`
}

func loadVectors(t *testing.T) vectorFile {
	t.Helper()
	raw, err := os.ReadFile(wxtest.VectorsPath())
	if err != nil {
		t.Fatal(err)
	}
	var v vectorFile
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// normalize round-trips a value through JSON (numbers as json.Number) so that maps compare with DeepEqual.
func normalize(t *testing.T, v interface{}) interface{} {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out interface{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func str(m map[string]interface{}, k string) string { s, _ := m[k].(string); return s }

func num(t *testing.T, m map[string]interface{}, k string) int64 {
	t.Helper()
	n, ok := m[k].(json.Number)
	if !ok {
		t.Fatalf("%s: not a number: %v", k, m[k])
	}
	i, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return i
}

// requestFromDecoded builds the request from a vector's decoded fields (independently of the decoder).
func requestFromDecoded(t *testing.T, d map[string]interface{}) wxauth.Request {
	switch d["op"] {
	case "PING":
		return wxauth.Ping{}
	case "AUTH":
		return wxauth.Auth{CallerID: str(d, "caller_id"), Proof: unhex(t, str(d, "proof_hex"))}
	case "LOGIN":
		return wxauth.Login{AppID: str(d, "app_id"), Code: str(d, "code")}
	case "VALIDATE":
		return wxauth.Validate{Token: str(d, "token")}
	case "REFRESH":
		return wxauth.Refresh{Token: str(d, "token")}
	case "REVOKE":
		return wxauth.Revoke{Token: str(d, "token")}
	case "REVOKE_USER":
		return wxauth.RevokeUser{AppID: str(d, "app_id"), OpenID: str(d, "openid")}
	case "DECRYPT":
		return wxauth.Decrypt{Token: str(d, "token"), EncryptedData: str(d, "encrypted_data"), IV: str(d, "iv")}
	case "VERIFY_SIGNATURE":
		return wxauth.VerifySignature{Token: str(d, "token"), RawData: str(d, "raw_data"), Signature: str(d, "signature")}
	case "PHONE_NUMBER":
		return wxauth.PhoneNumber{Token: str(d, "token"), Code: str(d, "code")}
	case "CHECK_SESSION_KEY":
		return wxauth.CheckSessionKey{Token: str(d, "token")}
	case "RESET_SESSION_KEY":
		return wxauth.ResetSessionKey{Token: str(d, "token")}
	}
	t.Fatalf("unknown op %v", d["op"])
	return nil
}

// requestAsDict is the shape of a request vector's decoded field.
func requestAsDict(id uint32, r wxauth.Request) map[string]interface{} {
	m := map[string]interface{}{"request_id": id, "op": r.Op().String()}
	switch v := r.(type) {
	case wxauth.Auth:
		m["caller_id"], m["proof_hex"] = v.CallerID, hex.EncodeToString(v.Proof)
	case wxauth.Login:
		m["app_id"], m["code"] = v.AppID, v.Code
	case wxauth.Validate:
		m["token"] = v.Token
	case wxauth.Refresh:
		m["token"] = v.Token
	case wxauth.Revoke:
		m["token"] = v.Token
	case wxauth.RevokeUser:
		m["app_id"], m["openid"] = v.AppID, v.OpenID
	case wxauth.Decrypt:
		m["token"], m["encrypted_data"], m["iv"] = v.Token, v.EncryptedData, v.IV
	case wxauth.VerifySignature:
		m["token"], m["raw_data"], m["signature"] = v.Token, v.RawData, v.Signature
	case wxauth.PhoneNumber:
		m["token"], m["code"] = v.Token, v.Code
	case wxauth.CheckSessionKey:
		m["token"] = v.Token
	case wxauth.ResetSessionKey:
		m["token"] = v.Token
	}
	return m
}

func sessionDict(s wxauth.Session) map[string]interface{} {
	return map[string]interface{}{"app_id": s.AppID, "openid": s.OpenID, "unionid": s.UnionID,
		"created_at": s.CreatedAt, "expires_at": s.ExpiresAt, "absolute_expires_at": s.AbsoluteExpiresAt}
}

func sessionFrom(t *testing.T, d map[string]interface{}) wxauth.Session {
	return wxauth.Session{AppID: str(d, "app_id"), OpenID: str(d, "openid"), UnionID: str(d, "unionid"),
		CreatedAt: num(t, d, "created_at"), ExpiresAt: num(t, d, "expires_at"),
		AbsoluteExpiresAt: num(t, d, "absolute_expires_at")}
}

// okAsDict is the shape of an OK response vector's body fields.
func okAsDict(v interface{}) map[string]interface{} {
	switch r := v.(type) {
	case wxauth.Hello:
		return map[string]interface{}{"flags": r.Flags, "nonce_hex": hex.EncodeToString(r.Nonce), "max_frame": r.MaxFrame}
	case wxauth.Pong:
		return map[string]interface{}{"server_time": r.ServerTime}
	case wxauth.AuthResult:
		return map[string]interface{}{"permissions": r.Permissions}
	case wxauth.TokenResult:
		return map[string]interface{}{"token": r.Token, "session": sessionDict(r.Session)}
	case wxauth.Session:
		return map[string]interface{}{"session": sessionDict(r)}
	case wxauth.RevokedCount:
		return map[string]interface{}{"revoked": r.Revoked}
	case wxauth.DecryptResult:
		return map[string]interface{}{"data": r.Data}
	case wxauth.PhoneNumberResult:
		return map[string]interface{}{"phone_number": r.PhoneNumber, "pure_phone_number": r.PurePhoneNumber,
			"country_code": r.CountryCode}
	case wxauth.SessionKeyCheck:
		return map[string]interface{}{"current": r.Current}
	}
	return map[string]interface{}{}
}

func errorAsDict(e *wxauth.Error) map[string]interface{} {
	m := map[string]interface{}{"message": e.Message}
	switch e.Status {
	case wxauth.StatusUnsupportedVersion:
		m["supported"] = e.Supported
	case wxauth.StatusFrameTooLarge:
		m["max_frame"] = e.MaxFrame
	case wxauth.StatusRateLimited:
		m["retry_after_ms"], m["errcode"] = e.RetryAfterMs, e.Errcode
	case wxauth.StatusWeChatRejected, wxauth.StatusWeChatUnavailable:
		m["errcode"] = e.Errcode
	case wxauth.StatusDecryptFailed:
		m["reason"] = e.Reason.String()
	}
	return m
}

// bodyFromDecoded builds the OK body (or *Error) from a response vector's decoded fields.
func bodyFromDecoded(t *testing.T, d map[string]interface{}) interface{} {
	status := d["status"].(string)
	if status != "OK" {
		e := &wxauth.Error{Message: str(d, "message")}
		for _, s := range wxauth.Statuses() {
			if s.String() == status {
				e.Status = s
			}
		}
		if _, ok := d["errcode"]; ok {
			e.Errcode = int32(num(t, d, "errcode"))
		}
		if _, ok := d["retry_after_ms"]; ok {
			e.RetryAfterMs = uint32(num(t, d, "retry_after_ms"))
		}
		if _, ok := d["supported"]; ok {
			e.Supported = uint8(num(t, d, "supported"))
		}
		if _, ok := d["max_frame"]; ok {
			e.MaxFrame = uint32(num(t, d, "max_frame"))
		}
		for _, r := range wxauth.Reasons() {
			if r.String() == str(d, "reason") {
				e.Reason = r
			}
		}
		return e
	}
	switch d["op"] {
	case "HELLO":
		return wxauth.Hello{Flags: uint8(num(t, d, "flags")), Nonce: unhex(t, str(d, "nonce_hex")), MaxFrame: uint32(num(t, d, "max_frame"))}
	case "PING":
		return wxauth.Pong{ServerTime: num(t, d, "server_time")}
	case "AUTH":
		return wxauth.AuthResult{Permissions: uint32(num(t, d, "permissions"))}
	case "LOGIN", "REFRESH":
		return wxauth.TokenResult{Token: str(d, "token"), Session: sessionFrom(t, d["session"].(map[string]interface{}))}
	case "VALIDATE":
		return sessionFrom(t, d["session"].(map[string]interface{}))
	case "REVOKE", "VERIFY_SIGNATURE", "RESET_SESSION_KEY":
		return wxauth.Empty{}
	case "REVOKE_USER":
		return wxauth.RevokedCount{Revoked: uint32(num(t, d, "revoked"))}
	case "DECRYPT":
		return wxauth.DecryptResult{Data: str(d, "data")}
	case "PHONE_NUMBER":
		return wxauth.PhoneNumberResult{PhoneNumber: str(d, "phone_number"), PurePhoneNumber: str(d, "pure_phone_number"), CountryCode: str(d, "country_code")}
	case "CHECK_SESSION_KEY":
		return wxauth.SessionKeyCheck{Current: d["current"].(bool)}
	}
	t.Fatalf("unknown op %v", d["op"])
	return nil
}

func opByName(t *testing.T, name string) wxauth.Op {
	for _, o := range wxauth.Ops() {
		if o.String() == name {
			return o
		}
	}
	t.Fatalf("unknown op %s", name)
	return 0
}

func TestVectorTablesMatch(t *testing.T) {
	v := loadVectors(t)
	if v.ProtocolVersion != wxauth.Version {
		t.Fatalf("protocol_version %d", v.ProtocolVersion)
	}
	ops := map[string]int{}
	for _, o := range wxauth.Ops() {
		ops[o.String()] = int(o)
	}
	statuses := map[string]int{}
	for _, s := range wxauth.Statuses() {
		statuses[s.String()] = int(s)
	}
	reasons := map[string]int{}
	for _, r := range wxauth.Reasons() {
		reasons[r.String()] = int(r)
	}
	if !reflect.DeepEqual(ops, v.Opcodes) || !reflect.DeepEqual(statuses, v.Statuses) || !reflect.DeepEqual(reasons, v.Reasons) {
		t.Fatalf("tables differ:\nops %v\n vs %v\nstatuses %v\n vs %v\nreasons %v\n vs %v", ops, v.Opcodes, statuses, v.Statuses, reasons, v.Reasons)
	}
	if len(v.Requests) < 8 || len(v.Responses) < 20 || len(v.Invalid) < 9 || len(v.UnknownStatuses) < 2 || len(v.AuthProofs) < 3 {
		t.Fatal("vector file looks truncated")
	}
}

func TestRequestVectors(t *testing.T) {
	for _, vec := range loadVectors(t).Requests {
		vec := vec
		t.Run(vec.Name, func(t *testing.T) {
			id := uint32(num(t, vec.Decoded, "request_id"))
			frame, err := wxauth.EncodeRequest(id, requestFromDecoded(t, vec.Decoded))
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(frame) != vec.Hex {
				t.Fatalf("encoded\n %x\nwant\n %s", frame, vec.Hex)
			}
			gotID, req, err := wxauth.DecodeRequest(unhex(t, vec.Hex), wxauth.DefaultMaxFrame)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := normalize(t, requestAsDict(gotID, req)), normalize(t, vec.Decoded); !reflect.DeepEqual(got, want) {
				t.Fatalf("decoded %v, want %v", got, want)
			}
		})
	}
}

func TestResponseVectors(t *testing.T) {
	for _, vec := range loadVectors(t).Responses {
		vec := vec
		t.Run(vec.Name, func(t *testing.T) {
			d := vec.Decoded
			op := opByName(t, d["op"].(string))
			data := unhex(t, vec.Hex)
			// decode, through the streaming reader fed one byte at a time
			f, err := wxauth.ReadFrame(&oneByteReader{data: data}, wxauth.DefaultMaxFrame)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]interface{}{"request_id": f.RequestID, "op": op.String(), "status": wxauth.Status(f.Kind).String()}
			var body map[string]interface{}
			if f.Kind == 0 {
				v, err := wxauth.DecodeOK(op, f.Body)
				if err != nil {
					t.Fatal(err)
				}
				body = okAsDict(v)
			} else {
				e, err := wxauth.DecodeErrorBody(wxauth.Status(f.Kind), f.RequestID, f.Body)
				if err != nil {
					t.Fatal(err)
				}
				body = errorAsDict(e)
				// the typed error: status sentinel, fields, retryability
				var asErr error = e
				sentinel := &wxauth.Error{Status: wxauth.Status(f.Kind)}
				if !errors.Is(asErr, sentinel) || e.RequestID != uint32(num(t, d, "request_id")) || e.Message != str(d, "message") {
					t.Fatalf("typed error %+v", e)
				}
				if e.Retryable() != wxauth.Status(f.Kind).Retryable() || wxauth.Retryable(asErr) != e.Retryable() {
					t.Fatal("Retryable disagrees")
				}
			}
			for k, v := range body {
				got[k] = v
			}
			if g, w := normalize(t, got), normalize(t, d); !reflect.DeepEqual(g, w) {
				t.Fatalf("decoded %v\nwant %v", g, w)
			}
			// encode from the vector's decoded fields
			var enc []byte
			switch b := bodyFromDecoded(t, d).(type) {
			case *wxauth.Error:
				enc = wxauth.EncodeError(uint32(num(t, d, "request_id")), b)
			default:
				enc, err = wxauth.EncodeOK(uint32(num(t, d, "request_id")), b)
				if err != nil {
					t.Fatal(err)
				}
			}
			if hex.EncodeToString(enc) != vec.Hex {
				t.Fatalf("encoded\n %x\nwant\n %s", enc, vec.Hex)
			}
		})
	}
}

func TestInvalidVectors(t *testing.T) {
	for _, vec := range loadVectors(t).Invalid {
		vec := vec
		t.Run(vec.Name, func(t *testing.T) {
			data := unhex(t, vec.Hex)
			_, _, err := wxauth.DecodeRequest(data, wxauth.DefaultMaxFrame)
			var de *wxauth.DecodeError
			if !errors.As(err, &de) || de.Code != vec.Expect {
				t.Fatalf("got %v, want a DecodeError %s", err, vec.Expect)
			}
			if len(vec.Expect) > 6 && vec.Expect[:6] == "frame_" {
				// a bad length prefix is reported from its four bytes alone
				_, err := wxauth.ReadFrame(bytes.NewReader(data[:4]), wxauth.DefaultMaxFrame)
				if !errors.As(err, &de) || de.Code != vec.Expect {
					t.Fatalf("from the prefix alone: %v", err)
				}
			}
		})
	}
}

// unknown_statuses: the client reads the message of a status it does not know and skips the rest of the body.
func TestUnknownStatusVectors(t *testing.T) {
	for _, vec := range loadVectors(t).UnknownStatuses {
		vec := vec
		t.Run(vec.Name, func(t *testing.T) {
			d := vec.Decoded
			f, err := wxauth.ReadFrame(&oneByteReader{data: unhex(t, vec.Hex)}, wxauth.DefaultMaxFrame)
			if err != nil {
				t.Fatal(err)
			}
			if f.RequestID != uint32(num(t, d, "request_id")) || int(f.Kind) != int(num(t, d, "status_code")) {
				t.Fatalf("frame id %d kind %d", f.RequestID, f.Kind)
			}
			if wxauth.Status(f.Kind).Known() {
				t.Fatalf("status %d is known to this client: the vector tests nothing", f.Kind)
			}
			e, err := wxauth.DecodeErrorBody(wxauth.Status(f.Kind), f.RequestID, f.Body)
			if err != nil {
				t.Fatal(err)
			}
			if e.Message != str(d, "message") || e.Retryable() || wxauth.Retryable(e) {
				t.Fatalf("got %+v", e)
			}
			// the same body under a known status without fields has bytes left over: a protocol error
			if len(f.Body) > 2+len(e.Message) {
				if _, err := wxauth.DecodeErrorBody(wxauth.StatusInvalidToken, f.RequestID, f.Body); err == nil {
					t.Fatal("a known status's body with bytes left over was accepted")
				}
			}
		})
	}
}

// auth_proofs: HMAC-SHA256 keyed with the caller secret's UTF-8 bytes (never hex-decoded).
func TestAuthProofVectors(t *testing.T) {
	for i, vec := range loadVectors(t).AuthProofs {
		vec := vec
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			got := wxauth.AuthProof([]byte(vec.Secret), unhex(t, vec.NonceHex))
			if hex.EncodeToString(got) != vec.ProofHex {
				t.Fatal("proof differs from the vector") // never print the secret
			}
		})
	}
}

type oneByteReader struct {
	data []byte
	pos  int
}

func (r *oneByteReader) Read(p []byte) (int, error) {
	if r.pos >= len(r.data) {
		return 0, os.ErrClosed
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = r.data[r.pos]
	r.pos++
	return 1, nil
}

func TestRequestsNeverPrintSecrets(t *testing.T) {
	secret := "AV9kZXYtcmFuZG9tLWJ5dGVzLXRhZy10YWctdGFnLXRh"
	reqs := []interface{}{wxauth.Auth{CallerID: "svc", Proof: []byte(secret[:32])}, wxauth.Login{AppID: "wx1", Code: secret},
		wxauth.Validate{Token: secret}, wxauth.Refresh{Token: secret}, wxauth.Revoke{Token: secret},
		wxauth.Decrypt{Token: secret, EncryptedData: secret, IV: secret}, wxauth.VerifySignature{Token: secret, RawData: secret, Signature: secret},
		wxauth.PhoneNumber{Token: secret, Code: secret}, wxauth.CheckSessionKey{Token: secret}, wxauth.ResetSessionKey{Token: secret},
		wxauth.TokenResult{Token: secret}}
	for _, r := range reqs {
		for _, format := range []string{"%v", "%+v", "%s"} {
			if s := fmt.Sprintf(format, r); strings.Contains(s, secret[:32]) {
				t.Fatalf("%T prints a secret with %s: %s", r, format, s)
			}
		}
	}
}

// Tokens are opaque: version 1 has 44 characters, version 2 (shared store) 52; any 1..128 is sent and received,
// only a token outside the field limit is refused before sending.
func TestTokensOfAnyLengthUpTo128(t *testing.T) {
	for _, n := range []int{1, 44, 52, 128} {
		tok := strings.Repeat("A", n-1) + "_"
		if _, err := wxauth.EncodeRequest(1, wxauth.Validate{Token: tok}); err != nil {
			t.Fatalf("%d characters: %v", n, err)
		}
		ok, err := wxauth.EncodeOK(1, wxauth.TokenResult{Token: tok, Session: testSession})
		if err != nil {
			t.Fatal(err)
		}
		f, err := wxauth.ReadFrame(bytes.NewReader(ok), wxauth.DefaultMaxFrame)
		if err != nil {
			t.Fatal(err)
		}
		v, err := wxauth.DecodeOK(wxauth.OpRefresh, f.Body)
		if err != nil || v.(wxauth.TokenResult).Token != tok {
			t.Fatalf("%d characters: %v", n, err)
		}
	}
	var fl *wxauth.FieldLimitError
	if _, err := wxauth.EncodeRequest(1, wxauth.Validate{Token: strings.Repeat("A", 129)}); !errors.As(err, &fl) {
		t.Fatalf("129 characters: %v", err)
	}
}
