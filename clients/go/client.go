// Package wxauth is a client for wxauthd, the WeChat mini program login-session service (binary protocol v1,
// protocol/PROTOCOL.md). Standard library only.
//
// A Client is safe for concurrent use: requests from any number of goroutines are pipelined over a small pool of
// connections, each with a reader goroutine that matches responses to requests by request id.
//
//	c, _ := wxauth.New(wxauth.Options{Addrs: []string{"10.0.0.5:7400", "10.0.0.6:7400"}})
//	defer c.Close()
//	issued, err := c.Login(ctx, "wx1234567890abcdef", code)
//	session, err := c.Validate(ctx, issued.Token)
//
// Fail-over: see Options.Addrs.
package wxauth

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Client.
type Options struct {
	// Addrs are the servers ("host:port"), tried in order. The client uses one address at a time; it moves to the
	// next one when it cannot connect (HELLO and AUTH included), when a connection is lost, when a request got no
	// answer within its timeout, or when the server answers one of the statuses about the node: SHUTTING_DOWN,
	// STORE_UNAVAILABLE, SERVER_FULL or INTERNAL_ERROR (RATE_LIMITED and WECHAT_UNAVAILABLE do not move it). A
	// request that failed that way after it was sent is retried once, at the next address, only when it is safe
	// to repeat: PING, VALIDATE, DECRYPT, VERIFY_SIGNATURE, CHECK_SESSION_KEY, and LOGIN (the server remembers a
	// code's outcome). REFRESH, REVOKE, REVOKE_USER, PHONE_NUMBER and RESET_SESSION_KEY are never repeated: their
	// error is returned. A timed-out request is not repeated either (its deadline is spent). A request that never
	// reached a socket is always retried. Requests already sent to a node the client leaves still get their
	// answers there (the connection is retired, not closed).
	Addrs []string
	// CallerID and CallerSecret answer a HELLO that requires AUTH; the secret is used as its UTF-8 bytes.
	CallerID     string
	CallerSecret string
	// DialTimeout bounds connecting plus HELLO and AUTH (default 5 s).
	DialTimeout time.Duration
	// RequestTimeout applies to calls whose context has no deadline (default 5 s; negative: none).
	RequestTimeout time.Duration
	// PoolSize is the number of connections requests are spread over (default 2).
	PoolSize int
}

// Client is a wxauthd client; safe for concurrent use.
type Client struct {
	opts   Options
	slots  []*slot
	rr     uint32
	mu     sync.Mutex
	cur    int // index of the address in use
	closed bool
}

type slot struct {
	mu sync.Mutex
	c  *conn
}

// New returns a client; connections are opened on first use.
func New(o Options) (*Client, error) {
	if len(o.Addrs) == 0 {
		return nil, errors.New("wxauth: Options.Addrs is empty")
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 5 * time.Second
	}
	if o.RequestTimeout == 0 {
		o.RequestTimeout = 5 * time.Second
	}
	if o.PoolSize <= 0 {
		o.PoolSize = 2
	}
	o.Addrs = append([]string(nil), o.Addrs...)
	c := &Client{opts: o, slots: make([]*slot, o.PoolSize)}
	for i := range c.slots {
		c.slots[i] = &slot{}
	}
	return c, nil
}

// Dial is New followed by one connection (so that a wrong address or secret shows at once).
func Dial(ctx context.Context, o Options) (*Client, error) {
	c, err := New(o)
	if err != nil {
		return nil, err
	}
	if _, err := c.getConn(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Close closes every connection; pending requests fail with ErrClosed.
func (cl *Client) Close() error {
	cl.mu.Lock()
	cl.closed = true
	cl.mu.Unlock()
	for _, s := range cl.slots {
		s.mu.Lock()
		if s.c != nil {
			s.c.close(&ConnError{Addr: s.c.addr, Msg: "closed by the client", Kind: ErrConnectionLost, Err: ErrClosed})
			s.c = nil
		}
		s.mu.Unlock()
	}
	return nil
}

// Addr is the address currently in use.
func (cl *Client) Addr() string {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.opts.Addrs[cl.cur]
}

// Hello returns the greeting of a current connection (opening one if needed).
func (cl *Client) Hello(ctx context.Context) (Hello, uint32, error) {
	c, err := cl.getConn(ctx)
	if err != nil {
		return Hello{}, 0, err
	}
	return c.hello, c.permissions, nil
}

func (cl *Client) getConn(ctx context.Context) (*conn, error) {
	s := cl.slots[int(atomic.AddUint32(&cl.rr, 1))%len(cl.slots)]
	s.mu.Lock()
	defer s.mu.Unlock()
	cl.mu.Lock()
	closed := cl.closed
	cl.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	if s.c != nil && s.c.usable() {
		return s.c, nil
	}
	if s.c != nil {
		s.c.retire()
		s.c = nil
	}
	c, err := cl.dial(ctx)
	if err != nil {
		return nil, err
	}
	s.c = c
	return c, nil
}

// dial tries every address once, starting with the current one, and makes the first that answers current.
func (cl *Client) dial(ctx context.Context) (*conn, error) {
	cl.mu.Lock()
	start := cl.cur
	cl.mu.Unlock()
	n := len(cl.opts.Addrs)
	var last error
	for k := 0; k < n; k++ {
		idx := (start + k) % n
		c, err := dialConn(ctx, cl.opts.Addrs[idx], idx, &cl.opts)
		if err == nil {
			cl.mu.Lock()
			if cl.cur == start {
				cl.cur = idx
			}
			cl.mu.Unlock()
			return c, nil
		}
		last = err
		if ctx.Err() != nil {
			break
		}
		var se *Error
		if errors.As(err, &se) && !failoverStatus(se.Status) {
			break // NOT_AUTHORIZED, RATE_LIMITED, ...: the same on every node (PROTOCOL.md rule 1): fail at once
		}
	}
	return nil, last
}

// failover moves away from the address of c (once, however many requests report it) and retires its connections.
func (cl *Client) failover(c *conn) {
	cl.mu.Lock()
	if cl.cur == c.addrIdx {
		cl.cur = (c.addrIdx + 1) % len(cl.opts.Addrs)
	}
	cl.mu.Unlock()
	c.retire()
	for _, s := range cl.slots {
		s.mu.Lock()
		if s.c != nil && s.c.addrIdx == c.addrIdx {
			s.c.retire()
		}
		s.mu.Unlock()
	}
}

// safeToRepeat: requests that may be sent again after a lost connection or a fail-over status.
func safeToRepeat(op Op) bool {
	switch op {
	case OpPing, OpValidate, OpDecrypt, OpVerifySignature, OpCheckSessionKey, OpLogin:
		return true
	}
	return false
}

// errAuthByHand: AUTH belongs to the connection (sent on connect with Options.CallerID); a pooled connection must
// not change caller halfway.
var errAuthByHand = &FieldLimitError{Field: "op", Msg: "AUTH is sent by the client on connect (Options.CallerID)"}

// failoverStatus: the retryable statuses about the node (PROTOCOL.md "Clients and several nodes" rule 2).
// RATE_LIMITED and WECHAT_UNAVAILABLE are about the caller or WeChat and keep the client where it is.
func failoverStatus(s Status) bool {
	switch s {
	case StatusShuttingDown, StatusStoreUnavailable, StatusServerFull, StatusInternalError:
		return true
	}
	return false
}

func (cl *Client) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); !ok && cl.opts.RequestTimeout > 0 {
		return context.WithTimeout(ctx, cl.opts.RequestTimeout)
	}
	return ctx, func() {}
}

// decodeResponse turns a response frame into the OK value or the status's *Error.
func decodeResponse(c *conn, op Op, f Frame) (interface{}, error) {
	if f.Kind == uint8(StatusOK) {
		v, err := DecodeOK(op, f.Body)
		if err != nil {
			return nil, protocolErr(c.addr, "undecodable "+op.String()+" response", err)
		}
		return v, nil
	}
	e, err := DecodeErrorBody(Status(f.Kind), f.RequestID, f.Body)
	if err != nil {
		return nil, protocolErr(c.addr, "undecodable "+Status(f.Kind).String()+" body", err)
	}
	if failoverStatus(e.Status) {
		c.retire() // finish what is pending there, send nothing new
	}
	return nil, e
}

// Do sends one request and returns its OK value (see DecodeOK for the types) or its error, with fail-over.
func (cl *Client) Do(ctx context.Context, req Request) (interface{}, error) {
	ctx, cancel := cl.withTimeout(ctx)
	defer cancel()
	op := req.Op()
	if op == OpAuth {
		return nil, errAuthByHand
	}
	body, err := req.AppendBody(nil)
	if err != nil {
		return nil, err
	}
	unsent, repeated := 0, false
	for {
		c, err := cl.getConn(ctx)
		if err != nil {
			return nil, err
		}
		ids, chans, sent, err := c.send(ctx, []Op{op}, [][]byte{body})
		var v interface{}
		if err == nil {
			var f Frame
			f, err = c.wait(ctx, op, ids[0], chans[0])
			if err == nil {
				v, err = decodeResponse(c, op, f)
			}
		}
		if err == nil {
			return v, nil
		}
		var fl *FieldLimitError
		if errors.As(err, &fl) {
			return nil, err
		}
		if errors.Is(err, ErrClosed) {
			return nil, err
		}
		if ctx.Err() != nil {
			if sent && errors.Is(err, ErrTimeout) && errors.Is(ctx.Err(), context.DeadlineExceeded) {
				cl.failover(c) // no answer within the timeout: leave the node; the spent deadline allows no repeat
			}
			return nil, err
		}
		if !sent && unsent < 2 {
			unsent++
			continue // nothing was sent: the connection had just died or been retired; getConn redials
		}
		var se *Error
		if errors.Is(err, ErrConnectionLost) || (errors.As(err, &se) && failoverStatus(se.Status)) {
			cl.failover(c)
			if !repeated && safeToRepeat(op) {
				repeated = true
				continue
			}
		}
		return nil, err
	}
}

// Result is one answer of Pipeline: Value (see DecodeOK) or Err.
type Result struct {
	Value interface{}
	Err   error
}

// Pipeline writes all requests on one connection in one write and waits for every answer (results in request
// order). There is no fail-over inside a pipeline: errors are returned in place; an answer that makes the client
// leave the node (see Options.Addrs) sends the next call to the next address.
func (cl *Client) Pipeline(ctx context.Context, reqs ...Request) []Result {
	ctx, cancel := cl.withTimeout(ctx)
	defer cancel()
	out := make([]Result, len(reqs))
	ops := make([]Op, len(reqs))
	bodies := make([][]byte, len(reqs))
	var idx []int
	for i, r := range reqs {
		if r.Op() == OpAuth {
			out[i].Err = errAuthByHand
			continue
		}
		b, err := r.AppendBody(nil)
		if err != nil {
			out[i].Err = err
			continue
		}
		ops[len(idx)], bodies[len(idx)] = r.Op(), b
		idx = append(idx, i)
	}
	if len(idx) == 0 {
		return out
	}
	ops, bodies = ops[:len(idx)], bodies[:len(idx)]
	c, err := cl.getConn(ctx)
	var ids []uint32
	var chans []chan result
	if err == nil {
		ids, chans, _, err = c.send(ctx, ops, bodies)
	}
	if err != nil {
		for _, i := range idx {
			out[i].Err = err
		}
		return out
	}
	leave := false
	for k, i := range idx {
		f, err := c.wait(ctx, ops[k], ids[k], chans[k])
		if err == nil {
			out[i].Value, out[i].Err = decodeResponse(c, ops[k], f)
		} else {
			out[i].Err = err
		}
		var se *Error
		if errors.Is(out[i].Err, ErrConnectionLost) || (errors.As(out[i].Err, &se) && failoverStatus(se.Status)) ||
			(errors.Is(out[i].Err, ErrTimeout) && errors.Is(ctx.Err(), context.DeadlineExceeded)) {
			leave = true
		}
	}
	if leave {
		cl.failover(c) // the batch is not repeated, but the next call goes to the next address
	}
	return out
}

// ---- typed operations ------------------------------------------------------------------------------------------

// Ping returns the server's clock.
func (cl *Client) Ping(ctx context.Context) (time.Time, error) {
	v, err := cl.Do(ctx, Ping{})
	if err != nil {
		return time.Time{}, err
	}
	return time.UnixMilli(v.(Pong).ServerTime), nil
}

// Login exchanges a wx.login code for a session token.
func (cl *Client) Login(ctx context.Context, appID, code string) (*TokenResult, error) {
	v, err := cl.Do(ctx, Login{AppID: appID, Code: code})
	if err != nil {
		return nil, err
	}
	t := v.(TokenResult)
	return &t, nil
}

// Validate checks a token and slides its idle deadline.
func (cl *Client) Validate(ctx context.Context, token string) (*Session, error) {
	v, err := cl.Do(ctx, Validate{Token: token})
	if err != nil {
		return nil, err
	}
	s := v.(Session)
	return &s, nil
}

// Refresh rotates a token (never repeated by fail-over; a repeat within the server's grace window is safe).
func (cl *Client) Refresh(ctx context.Context, token string) (*TokenResult, error) {
	v, err := cl.Do(ctx, Refresh{Token: token})
	if err != nil {
		return nil, err
	}
	t := v.(TokenResult)
	return &t, nil
}

// Revoke ends one session.
func (cl *Client) Revoke(ctx context.Context, token string) error {
	_, err := cl.Do(ctx, Revoke{Token: token})
	return err
}

// RevokeUser ends every live session of (appID, openID) and returns how many there were.
func (cl *Client) RevokeUser(ctx context.Context, appID, openID string) (uint32, error) {
	v, err := cl.Do(ctx, RevokeUser{AppID: appID, OpenID: openID})
	if err != nil {
		return 0, err
	}
	return v.(RevokedCount).Revoked, nil
}

// Decrypt returns the plaintext JSON of encryptedData (DECRYPT_FAILED carries a Reason).
func (cl *Client) Decrypt(ctx context.Context, token, encryptedData, iv string) (string, error) {
	v, err := cl.Do(ctx, Decrypt{Token: token, EncryptedData: encryptedData, IV: iv})
	if err != nil {
		return "", err
	}
	return v.(DecryptResult).Data, nil
}

// VerifySignature returns nil when signature == sha1(rawData + session_key), ErrSignatureMismatch otherwise.
func (cl *Client) VerifySignature(ctx context.Context, token, rawData, signature string) error {
	_, err := cl.Do(ctx, VerifySignature{Token: token, RawData: rawData, Signature: signature})
	return err
}

// PhoneNumber exchanges a getPhoneNumber button code (single use: never repeated).
func (cl *Client) PhoneNumber(ctx context.Context, token, code string) (*PhoneNumberResult, error) {
	v, err := cl.Do(ctx, PhoneNumber{Token: token, Code: code})
	if err != nil {
		return nil, err
	}
	p := v.(PhoneNumberResult)
	return &p, nil
}

// CheckSessionKey reports whether WeChat still considers the session's stored session_key current.
func (cl *Client) CheckSessionKey(ctx context.Context, token string) (bool, error) {
	v, err := cl.Do(ctx, CheckSessionKey{Token: token})
	if err != nil {
		return false, err
	}
	return v.(SessionKeyCheck).Current, nil
}

// ResetSessionKey has WeChat issue a new session_key, stored in the session (never returned).
func (cl *Client) ResetSessionKey(ctx context.Context, token string) error {
	_, err := cl.Do(ctx, ResetSessionKey{Token: token})
	return err
}
