package wxauth_test

// Against scripted in-process servers: what a real wxauthd does not do on demand (unknown statuses, broken
// frames, SHUTTING_DOWN and lost connections at chosen moments, out-of-order answers).

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	wxauth "github.com/wxauth/wxauth/clients/go"
)

// handler answers one request frame: the bytes to write (nil: nothing) and whether to close the connection.
type handler func(id uint32, op wxauth.Op, body []byte) (out []byte, closeConn bool)

type fake struct {
	ln   net.Listener
	mu   sync.Mutex
	seen []wxauth.Op
	h    handler
	// greeting replaces HELLO when set.
	greeting []byte
}

func startFake(t *testing.T, h handler) *fake { return startFakeGreeting(t, h, nil) }

func startFakeGreeting(t *testing.T, h handler, greeting []byte) *fake {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fake{ln: ln, h: h, greeting: greeting}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(nc)
		}
	}()
	return f
}

func (f *fake) addr() string { return f.ln.Addr().String() }

func (f *fake) ops() []wxauth.Op {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]wxauth.Op(nil), f.seen...)
}

func (f *fake) serve(nc net.Conn) {
	defer nc.Close()
	if f.greeting != nil {
		nc.Write(f.greeting)
		return
	}
	hello, _ := wxauth.EncodeOK(0, wxauth.Hello{Nonce: make([]byte, 32), MaxFrame: 65536})
	nc.Write(hello)
	for {
		fr, err := wxauth.ReadFrame(nc, 65536)
		if err != nil {
			return
		}
		f.mu.Lock()
		f.seen = append(f.seen, wxauth.Op(fr.Kind)) // handlers run under f.mu
		out, closeConn := f.h(fr.RequestID, wxauth.Op(fr.Kind), fr.Body)
		f.mu.Unlock()
		if out != nil {
			nc.Write(out)
		}
		if closeConn {
			return
		}
	}
}

var testSession = wxauth.Session{AppID: "wx1", OpenID: "o1", CreatedAt: 1, ExpiresAt: 2, AbsoluteExpiresAt: 3}

// okFor answers any request with a well-formed OK body.
func okFor(id uint32, op wxauth.Op) []byte {
	var body interface{}
	switch op {
	case wxauth.OpPing:
		body = wxauth.Pong{ServerTime: time.Now().UnixMilli()}
	case wxauth.OpValidate:
		body = testSession
	case wxauth.OpLogin, wxauth.OpRefresh:
		body = wxauth.TokenResult{Token: "T", Session: testSession}
	default:
		body = wxauth.Empty{}
	}
	out, _ := wxauth.EncodeOK(id, body)
	return out
}

func fastClient(t *testing.T, addrs ...string) *wxauth.Client {
	return newClient(t, wxauth.Options{Addrs: addrs, PoolSize: 1, RequestTimeout: 3 * time.Second, DialTimeout: 2 * time.Second})
}

func TestFakeUnknownStatusIsTypedAndKeepsTheConnection(t *testing.T) {
	var calls int
	f := startFake(t, func(id uint32, op wxauth.Op, _ []byte) ([]byte, bool) {
		calls++
		if calls == 1 { // status 0x40: the message, then a field this client does not know
			body := []byte{0, 6}
			body = append(body, "future"...)
			body = binary.BigEndian.AppendUint32(body, 7)
			return wxauth.EncodeFrame(1, 0x40, id, body), false
		}
		return okFor(id, op), false
	})
	c := fastClient(t, f.addr())
	_, err := c.Validate(context.Background(), "tok")
	var e *wxauth.Error
	if !errors.As(err, &e) || e.Status != 0x40 || e.Message != "future" || e.Retryable() || e.Status.Known() {
		t.Fatalf("got %#v", err)
	}
	if _, err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ops := f.ops(); len(ops) != 2 {
		t.Fatalf("the unknown status was retried or the connection dropped: %v", ops)
	}
}

func TestFakeBrokenFramesAreProtocolErrors(t *testing.T) {
	cases := map[string]func(id uint32) []byte{
		"length below the header": func(id uint32) []byte { return []byte{0, 0, 0, 3, 1, 0, 0} },
		"huge length":             func(id uint32) []byte { return []byte{0xff, 0xff, 0xff, 0xff, 1, 0} },
		"truncated session": func(id uint32) []byte {
			return wxauth.EncodeFrame(1, 0, id, []byte{0, 3, 'w'})
		},
		"trailing bytes": func(id uint32) []byte {
			ok, _ := wxauth.EncodeOK(id, testSession)
			ok = append(ok, 0)
			binary.BigEndian.PutUint32(ok, uint32(len(ok)-4))
			return ok
		},
		"unknown version": func(id uint32) []byte { return wxauth.EncodeFrame(9, 0, id, nil) },
		"error body too short": func(id uint32) []byte {
			return wxauth.EncodeFrame(1, uint8(wxauth.StatusRateLimited), id, []byte{0, 0})
		},
	}
	for name, bad := range cases {
		bad := bad
		t.Run(name, func(t *testing.T) {
			var n int
			f := startFake(t, func(id uint32, op wxauth.Op, _ []byte) ([]byte, bool) {
				n++
				if n == 1 {
					return bad(id), false
				}
				return okFor(id, op), false
			})
			c := fastClient(t, f.addr())
			start := time.Now()
			_, err := c.Validate(context.Background(), "tok")
			if !errors.Is(err, wxauth.ErrProtocol) {
				t.Fatalf("got %v", err)
			}
			if time.Since(start) > 2*time.Second {
				t.Fatal("took until the timeout")
			}
			if _, err := c.Ping(context.Background()); err != nil { // recovers (new connection when needed)
				t.Fatal(err)
			}
		})
	}
}

func TestFakeOutOfOrderAnswers(t *testing.T) {
	var held []byte
	f := startFake(t, func(id uint32, op wxauth.Op, _ []byte) ([]byte, bool) {
		if op == wxauth.OpLogin { // answered after the PING behind it
			held = okFor(id, op)
			return nil, false
		}
		out := append(okFor(id, op), held...)
		held = nil
		return out, false
	})
	c := fastClient(t, f.addr())
	rs := c.Pipeline(context.Background(), wxauth.Login{AppID: "wx1", Code: "c"}, wxauth.Ping{})
	if rs[0].Err != nil || rs[1].Err != nil {
		t.Fatal(rs)
	}
	if _, ok := rs[0].Value.(wxauth.TokenResult); !ok {
		t.Fatalf("%#v", rs[0])
	}
	if _, ok := rs[1].Value.(wxauth.Pong); !ok {
		t.Fatalf("%#v", rs[1])
	}
}

func shuttingDown(id uint32) []byte {
	return wxauth.EncodeError(id, &wxauth.Error{Status: wxauth.StatusShuttingDown, Message: "server is shutting down"})
}

func TestFakeFailoverOnShuttingDown(t *testing.T) {
	a := startFake(t, func(id uint32, op wxauth.Op, _ []byte) ([]byte, bool) { return shuttingDown(id), false })
	b := startFake(t, func(id uint32, op wxauth.Op, _ []byte) ([]byte, bool) { return okFor(id, op), false })
	ctx := context.Background()

	c := fastClient(t, a.addr(), b.addr())
	if _, err := c.Validate(ctx, "tok"); err != nil { // safe: repeated once at B
		t.Fatal(err)
	}
	if ops := b.ops(); len(ops) != 1 || ops[0] != wxauth.OpValidate {
		t.Fatalf("B saw %v", ops)
	}

	c2 := fastClient(t, a.addr(), b.addr())
	err := c2.Revoke(ctx, "tok") // not safe: the error is returned, B never sees it
	if !errors.Is(err, wxauth.ErrShuttingDown) || !wxauth.Retryable(err) {
		t.Fatalf("got %v", err)
	}
	for _, op := range b.ops() {
		if op == wxauth.OpRevoke {
			t.Fatal("REVOKE was repeated")
		}
	}
	if c2.Addr() != b.addr() {
		t.Fatal("did not move to the next address")
	}
	if err := c2.Revoke(ctx, "tok"); err != nil { // the next call goes to B
		t.Fatal(err)
	}
}

func TestFakeConnectionLostMidRequest(t *testing.T) {
	a := startFake(t, func(id uint32, op wxauth.Op, _ []byte) ([]byte, bool) { return nil, true })
	b := startFake(t, func(id uint32, op wxauth.Op, _ []byte) ([]byte, bool) { return okFor(id, op), false })
	ctx := context.Background()

	c := fastClient(t, a.addr(), b.addr())
	if _, err := c.Login(ctx, "wx1", "code"); err != nil { // LOGIN with the same code is safe
		t.Fatal(err)
	}
	c2 := fastClient(t, a.addr(), b.addr())
	_, err := c2.Refresh(ctx, "tok")
	if !errors.Is(err, wxauth.ErrConnectionLost) || !wxauth.Retryable(err) {
		t.Fatalf("got %v", err)
	}
	for _, op := range b.ops() {
		if op == wxauth.OpRefresh {
			t.Fatal("REFRESH was repeated")
		}
	}
}

func TestFakeErrorFrameInPlaceOfHello(t *testing.T) {
	a := startFakeGreeting(t, nil, wxauth.EncodeError(0, &wxauth.Error{Status: wxauth.StatusServerFull, Message: "too many connections"}))
	b := startFake(t, func(id uint32, op wxauth.Op, _ []byte) ([]byte, bool) { return okFor(id, op), false })
	c := fastClient(t, a.addr())
	_, err := c.Ping(context.Background())
	if !errors.Is(err, wxauth.ErrServerFull) {
		t.Fatalf("got %v", err)
	}
	c2 := fastClient(t, a.addr(), b.addr())
	if _, err := c2.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestFakeSilentServerTimesOut(t *testing.T) {
	f := startFake(t, func(id uint32, op wxauth.Op, _ []byte) ([]byte, bool) { return nil, false })
	b := startFake(t, func(id uint32, op wxauth.Op, _ []byte) ([]byte, bool) { return okFor(id, op), false })
	c := fastClient(t, f.addr(), b.addr())
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.Validate(ctx, "tok")
	if !errors.Is(err, wxauth.ErrTimeout) {
		t.Fatalf("got %v", err)
	}
	// no answer within the timeout: the client left the node; the next request goes to B
	if _, err := c.Ping(context.Background()); err != nil || c.Addr() != b.addr() || len(b.ops()) != 1 {
		t.Fatalf("after a timeout: %v, at %s, B saw %v", err, c.Addr(), b.ops())
	}
}

func TestFakeAuthIsNotSentByHand(t *testing.T) {
	f := startFake(t, func(id uint32, op wxauth.Op, _ []byte) ([]byte, bool) { return okFor(id, op), false })
	c := fastClient(t, f.addr())
	var fl *wxauth.FieldLimitError
	if _, err := c.Do(context.Background(), wxauth.Auth{CallerID: "x", Proof: make([]byte, 32)}); !errors.As(err, &fl) {
		t.Fatalf("got %v", err)
	}
	if rs := c.Pipeline(context.Background(), wxauth.Auth{CallerID: "x", Proof: make([]byte, 32)}, wxauth.Ping{}); !errors.As(rs[0].Err, &fl) || rs[1].Err != nil {
		t.Fatalf("got %v", rs)
	}
	if ops := f.ops(); len(ops) != 1 || ops[0] != wxauth.OpPing {
		t.Fatalf("server saw %v", ops)
	}
}

// PROTOCOL.md "Clients and several nodes" rule 2: the retryable statuses about the node move the client (and a
// safe request is repeated once at the next node); RATE_LIMITED and WECHAT_UNAVAILABLE keep it where it is.
func TestFakeWhichStatusesLeaveTheNode(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		err   *wxauth.Error
		moves bool
	}{
		{&wxauth.Error{Status: wxauth.StatusShuttingDown, Message: "m"}, true},
		{&wxauth.Error{Status: wxauth.StatusStoreUnavailable, Message: "m"}, true},
		{&wxauth.Error{Status: wxauth.StatusServerFull, Message: "m"}, true},
		{&wxauth.Error{Status: wxauth.StatusInternalError, Message: "m"}, true},
		{&wxauth.Error{Status: wxauth.StatusRateLimited, Message: "m", RetryAfterMs: 5}, false},
		{&wxauth.Error{Status: wxauth.StatusWeChatUnavailable, Message: "m", Errcode: -1}, false},
		{&wxauth.Error{Status: wxauth.StatusInvalidToken, Message: "m"}, false},
	}
	for _, tc := range cases {
		tc := tc
		t.Run(tc.err.Status.String(), func(t *testing.T) {
			a := startFake(t, func(id uint32, op wxauth.Op, _ []byte) ([]byte, bool) {
				return wxauth.EncodeError(id, tc.err), false
			})
			b := startFake(t, func(id uint32, op wxauth.Op, _ []byte) ([]byte, bool) { return okFor(id, op), false })
			c := fastClient(t, a.addr(), b.addr())
			_, err := c.Validate(ctx, "tok") // safe to repeat
			if tc.moves {
				if err != nil || len(b.ops()) != 1 || c.Addr() != b.addr() {
					t.Fatalf("should have moved and repeated at B: %v, B saw %v", err, b.ops())
				}
				c2 := fastClient(t, a.addr(), b.addr())
				if err := c2.Revoke(ctx, "tok"); !errors.Is(err, tc.err) { // never repeated: the status is the answer
					t.Fatalf("REVOKE got %v", err)
				}
				if c2.Addr() != b.addr() {
					t.Fatal("REVOKE's status did not move the client")
				}
				for _, op := range b.ops() {
					if op == wxauth.OpRevoke {
						t.Fatal("REVOKE was repeated")
					}
				}
				// a pipeline is not repeated, but its answer moves the client all the same
				c3 := fastClient(t, a.addr(), b.addr())
				before := len(b.ops())
				if rs := c3.Pipeline(ctx, wxauth.Validate{Token: "tok"}); !errors.Is(rs[0].Err, tc.err) {
					t.Fatalf("pipeline got %v", rs[0].Err)
				}
				if len(b.ops()) != before || c3.Addr() != b.addr() {
					t.Fatalf("pipeline: repeated (%v) or did not move (at %s)", b.ops(), c3.Addr())
				}
				return
			}
			if !errors.Is(err, tc.err) || len(b.ops()) != 0 || c.Addr() != a.addr() {
				t.Fatalf("should have stayed at A: %v, B saw %v", err, b.ops())
			}
		})
	}
}

// PROTOCOL.md rule 1: a status not about the node while connecting (RATE_LIMITED in place of HELLO, NOT_AUTHORIZED
// for AUTH) is the same on every node: the call fails at once, the next node is not tried.
func TestFakeRateLimitedInPlaceOfHelloFailsAtOnce(t *testing.T) {
	a := startFakeGreeting(t, nil, wxauth.EncodeError(0, &wxauth.Error{Status: wxauth.StatusRateLimited, Message: "m", RetryAfterMs: 1000}))
	b := startFake(t, func(id uint32, op wxauth.Op, _ []byte) ([]byte, bool) { return okFor(id, op), false })
	c := fastClient(t, a.addr(), b.addr())
	if _, err := c.Ping(context.Background()); !errors.Is(err, wxauth.ErrRateLimited) {
		t.Fatalf("got %v", err)
	}
	if ops := b.ops(); len(ops) != 0 {
		t.Fatalf("B was tried: %v", ops)
	}
}
