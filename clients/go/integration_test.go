package wxauth_test

// Against a real `wxauthd --dev` (skipped when the binary is missing, unless WXAUTH_REQUIRE_SERVER=1). Codes,
// encrypted user data and phone codes come from its embedded WeChat simulator.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	wxauth "github.com/wxauth/wxauth/clients/go"
	"github.com/wxauth/wxauth/clients/go/internal/wxtest"
)

var (
	sharedOnce sync.Once
	shared     *wxtest.Server
	sharedErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.Stop()
	}
	os.Exit(code)
}

func requireServer(t *testing.T) {
	t.Helper()
	if reason, required := wxtest.SkipReason(); reason != "" {
		if required {
			t.Fatal(reason)
		}
		t.Skip(reason)
	}
}

// server is one wxauthd shared by the tests that do not change its configuration.
func server(t *testing.T) *wxtest.Server {
	t.Helper()
	requireServer(t)
	sharedOnce.Do(func() { shared, sharedErr = wxtest.Start(nil) })
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

// startServer runs a dedicated wxauthd with extra flags, stopped after the test.
func startServer(t *testing.T, env []string, extra ...string) *wxtest.Server {
	t.Helper()
	requireServer(t)
	s, err := wxtest.Start(env, extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

func newClient(t *testing.T, o wxauth.Options) *wxauth.Client {
	t.Helper()
	if o.RequestTimeout == 0 {
		o.RequestTimeout = 10 * time.Second
	}
	c, err := wxauth.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func mint(t *testing.T, s *wxtest.Server, user string) (string, string) {
	t.Helper()
	code, openid, err := s.Mint(user)
	if err != nil {
		t.Fatal(err)
	}
	return code, openid
}

func login(t *testing.T, c *wxauth.Client, s *wxtest.Server, user string) *wxauth.TokenResult {
	t.Helper()
	code, _ := mint(t, s, user)
	r, err := c.Login(context.Background(), s.DevAppID, code)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func wantStatus(t *testing.T, err error, sentinel *wxauth.Error) *wxauth.Error {
	t.Helper()
	var e *wxauth.Error
	if !errors.Is(err, sentinel) || !errors.As(err, &e) {
		t.Fatalf("got %v, want %s", err, sentinel.Status)
	}
	return e
}

var tokenShape = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

func TestIntegrationHelloAndPing(t *testing.T) {
	s := server(t)
	ctx := context.Background()
	c := newClient(t, wxauth.Options{Addrs: []string{s.Addr()}})
	h, perms, err := c.Hello(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if h.AuthRequired() || len(h.Nonce) != 32 || h.MaxFrame < 6 || perms != wxauth.PermAll {
		t.Fatalf("hello %+v perms %d", h, perms)
	}
	other := newClient(t, wxauth.Options{Addrs: []string{s.Addr()}})
	h2, _, err := other.Hello(ctx)
	if err != nil || string(h2.Nonce) == string(h.Nonce) {
		t.Fatal("expected a fresh nonce per connection", err)
	}
	now, err := c.Ping(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(now); d > 5*time.Second || d < -5*time.Second {
		t.Fatalf("server clock off by %v", d)
	}
}

func TestIntegrationLoginValidate(t *testing.T) {
	s := server(t)
	ctx := context.Background()
	c := newClient(t, wxauth.Options{Addrs: []string{s.Addr()}})
	code, openid := mint(t, s, "go-alice")
	issued, err := c.Login(ctx, s.DevAppID, code)
	if err != nil {
		t.Fatal(err)
	}
	if !tokenShape.MatchString(issued.Token) {
		t.Fatal("token has the wrong shape")
	}
	if strings.Contains(fmt.Sprint(issued), issued.Token) || strings.Contains(fmt.Sprintf("%+v", *issued), issued.Token) {
		t.Fatal("TokenResult prints its token")
	}
	ss := issued.Session
	if ss.AppID != s.DevAppID || ss.OpenID != openid || !(ss.CreatedAt <= ss.ExpiresAt && ss.ExpiresAt <= ss.AbsoluteExpiresAt) {
		t.Fatalf("session %+v", ss)
	}
	time.Sleep(10 * time.Millisecond)
	v, err := c.Validate(ctx, issued.Token)
	if err != nil {
		t.Fatal(err)
	}
	if v.OpenID != openid || v.CreatedAt != ss.CreatedAt || v.ExpiresAt < ss.ExpiresAt || v.AbsoluteExpiresAt != ss.AbsoluteExpiresAt {
		t.Fatalf("validate %+v vs %+v", v, ss)
	}
	// A repeated LOGIN with the same code gets the same session back while it is live.
	again, err := c.Login(ctx, s.DevAppID, code)
	if err != nil || again.Token != issued.Token {
		t.Fatalf("repeat login: %v (same token: %v)", err, err == nil && again.Token == issued.Token)
	}
	if err := c.Revoke(ctx, issued.Token); err != nil {
		t.Fatal(err)
	}
	_, err = c.Login(ctx, s.DevAppID, code)
	e := wantStatus(t, err, wxauth.ErrWeChatRejected)
	if e.Errcode != 40163 || e.Retryable() || wxauth.Retryable(err) {
		t.Fatalf("%+v", e)
	}
	_, err = c.Login(ctx, "wxnotconfigured01", code)
	wantStatus(t, err, wxauth.ErrUnknownApp)
}

func TestIntegrationRefreshRevoke(t *testing.T) {
	s := server(t)
	ctx := context.Background()
	c := newClient(t, wxauth.Options{Addrs: []string{s.Addr()}})
	issued := login(t, c, s, "go-carol")
	rotated, err := c.Refresh(ctx, issued.Token)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.Token == issued.Token || rotated.Session.OpenID != issued.Session.OpenID ||
		rotated.Session.CreatedAt != issued.Session.CreatedAt || rotated.Session.AbsoluteExpiresAt != issued.Session.AbsoluteExpiresAt {
		t.Fatal("rotation changed the session or kept the token")
	}
	again, err := c.Refresh(ctx, issued.Token) // the reply was "lost": same new token within the grace window
	if err != nil || again.Token != rotated.Token {
		t.Fatal("grace window did not return the same token", err)
	}
	_, err = c.Validate(ctx, issued.Token)
	wantStatus(t, err, wxauth.ErrTokenRevoked)
	if !wxauth.IsTokenUnusable(err) {
		t.Fatal("IsTokenUnusable")
	}
	if _, err := c.Validate(ctx, rotated.Token); err != nil {
		t.Fatal(err)
	}
	if err := c.Revoke(ctx, rotated.Token); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, c.Revoke(ctx, rotated.Token), wxauth.ErrTokenRevoked)

	for _, bad := range []string{strings.Repeat("A", 44), "not-a-token"} {
		_, err := c.Validate(ctx, bad)
		wantStatus(t, err, wxauth.ErrInvalidToken)
	}
	_, err = c.Validate(ctx, "")
	var fl *wxauth.FieldLimitError
	if !errors.As(err, &fl) || fl.Field != "token" {
		t.Fatalf("empty token: %v", err)
	}

	// REVOKE_USER counts the live sessions of the user.
	var tokens []string
	var openid string
	for i := 0; i < 3; i++ {
		r := login(t, c, s, "go-frank")
		tokens = append(tokens, r.Token)
		openid = r.Session.OpenID
	}
	if err := c.Revoke(ctx, tokens[0]); err != nil {
		t.Fatal(err)
	}
	if n, err := c.RevokeUser(ctx, s.DevAppID, openid); err != nil || n != 2 {
		t.Fatalf("revoke_user %d %v", n, err)
	}
	if n, err := c.RevokeUser(ctx, s.DevAppID, openid); err != nil || n != 0 {
		t.Fatalf("revoke_user again %d %v", n, err)
	}
}

func TestIntegrationConcurrentPipelining(t *testing.T) {
	s := server(t)
	ctx := context.Background()
	c := newClient(t, wxauth.Options{Addrs: []string{s.Addr()}, PoolSize: 1})
	issued := login(t, c, s, "go-gina")
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for g := 0; g < 50; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				v, err := c.Validate(ctx, issued.Token)
				if err == nil && v.OpenID != issued.Session.OpenID {
					err = fmt.Errorf("answer for another session")
				}
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	code, _ := mint(t, s, "go-hank")
	rs := c.Pipeline(ctx, wxauth.Login{AppID: s.DevAppID, Code: code}, wxauth.Validate{Token: strings.Repeat("C", 44)},
		wxauth.Validate{Token: issued.Token}, wxauth.Ping{}, wxauth.Login{AppID: s.DevAppID, Code: code}, wxauth.Validate{})
	if rs[0].Err != nil || rs[4].Err != nil || rs[0].Value.(wxauth.TokenResult).Token != rs[4].Value.(wxauth.TokenResult).Token {
		t.Fatalf("pipelined logins with one code: %v %v", rs[0].Err, rs[4].Err)
	}
	wantStatus(t, rs[1].Err, wxauth.ErrInvalidToken)
	if _, ok := rs[2].Value.(wxauth.Session); !ok {
		t.Fatalf("rs[2] = %#v", rs[2])
	}
	if _, ok := rs[3].Value.(wxauth.Pong); !ok {
		t.Fatalf("rs[3] = %#v", rs[3])
	}
	var fl *wxauth.FieldLimitError
	if !errors.As(rs[5].Err, &fl) {
		t.Fatalf("rs[5] = %#v", rs[5])
	}
}

func TestIntegrationUserData(t *testing.T) {
	s := server(t)
	ctx := context.Background()
	c := newClient(t, wxauth.Options{Addrs: []string{s.Addr()}})
	older := login(t, c, s, "go-ud")
	issued := login(t, c, s, "go-ud") // WeChat replaces the session_key
	info, err := s.Sim("/sim/encrypt", map[string]interface{}{"appid": s.DevAppID, "user": "go-ud",
		"data": map[string]string{"nickName": "Alice", "city": "Guangzhou"}})
	if err != nil {
		t.Fatal(err)
	}
	enc, iv := info["encryptedData"].(string), info["iv"].(string)
	data, err := c.Decrypt(ctx, issued.Token, enc, iv)
	if err != nil || !strings.Contains(data, `"nickName":"Alice"`) || !strings.Contains(data, s.DevAppID) {
		t.Fatalf("decrypt: %v", err)
	}
	if again, err := c.Decrypt(ctx, issued.Token, strings.ReplaceAll(enc, "+", " "), iv); err != nil || again != data {
		t.Fatal("a + turned into a space is not tolerated", err)
	}
	_, err = c.Decrypt(ctx, older.Token, enc, iv)
	if e := wantStatus(t, err, wxauth.ErrDecryptFailed); e.Reason != wxauth.ReasonBadPaddingOrKey || e.Retryable() {
		t.Fatalf("%+v", e)
	}
	_, err = c.Decrypt(ctx, issued.Token, enc, "AAAA")
	if e := wantStatus(t, err, wxauth.ErrDecryptFailed); e.Reason != wxauth.ReasonBadIVLength {
		t.Fatalf("%+v", e)
	}
	raw, sig := info["rawData"].(string), info["signature"].(string)
	if err := c.VerifySignature(ctx, issued.Token, raw, sig); err != nil {
		t.Fatal(err)
	}
	bad := "0" + sig[1:]
	if sig[0] == '0' {
		bad = "1" + sig[1:]
	}
	wantStatus(t, c.VerifySignature(ctx, issued.Token, raw, bad), wxauth.ErrSignatureMismatch)

	if cur, err := c.CheckSessionKey(ctx, issued.Token); err != nil || !cur {
		t.Fatal("current key reported stale", err)
	}
	if cur, err := c.CheckSessionKey(ctx, older.Token); err != nil || cur {
		t.Fatal("stale key reported current", err)
	}
	if err := c.ResetSessionKey(ctx, issued.Token); err != nil {
		t.Fatal(err)
	}
	if cur, err := c.CheckSessionKey(ctx, issued.Token); err != nil || !cur {
		t.Fatal("reset key not current", err)
	}
	fresh, err := s.Sim("/sim/encrypt", map[string]interface{}{"appid": s.DevAppID, "user": "go-ud",
		"data": map[string]string{"city": "Guangzhou"}})
	if err != nil {
		t.Fatal(err)
	}
	if d, err := c.Decrypt(ctx, issued.Token, fresh["encryptedData"].(string), fresh["iv"].(string)); err != nil || !strings.Contains(d, "Guangzhou") {
		t.Fatal("decrypt after reset", err)
	}

	// PHONE_NUMBER, concurrently; codes are single use.
	var codes []string
	for i := 0; i < 5; i++ {
		r, err := s.Sim("/sim/phone-code", map[string]string{"appid": s.DevAppID, "user": "go-ud", "phone": fmt.Sprintf("+86 1380013800%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, r["code"].(string))
	}
	phones := make([]*wxauth.PhoneNumberResult, 5)
	errs := make([]error, 5)
	var wg sync.WaitGroup
	for i := range codes {
		wg.Add(1)
		go func(i int) { defer wg.Done(); phones[i], errs[i] = c.PhoneNumber(ctx, issued.Token, codes[i]) }(i)
	}
	wg.Wait()
	for i := range codes {
		if errs[i] != nil || phones[i].PurePhoneNumber != fmt.Sprintf("1380013800%d", i) || phones[i].CountryCode != "86" {
			t.Fatalf("phone %d: %v %+v", i, errs[i], phones[i])
		}
	}
	_, err = c.PhoneNumber(ctx, issued.Token, codes[0])
	if e := wantStatus(t, err, wxauth.ErrWeChatRejected); e.Errcode != 40163 {
		t.Fatalf("%+v", e)
	}
}

func TestIntegrationAuth(t *testing.T) {
	cfg, err := os.CreateTemp(t.TempDir(), "callers-*.json")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(cfg, `{"callers": [{"id": "orders-api", "secret_env": "WXAUTH_GO_T1", "permissions": ["ALL"]},
		{"id": "reader", "secret_env": "WXAUTH_GO_T2", "permissions": ["VALIDATE"]}]}`)
	cfg.Close()
	s := startServer(t, []string{"WXAUTH_GO_T1=s3cret", "WXAUTH_GO_T2=r34d"}, "--config", cfg.Name())
	ctx := context.Background()

	full := newClient(t, wxauth.Options{Addrs: []string{s.Addr()}, CallerID: "orders-api", CallerSecret: "s3cret"})
	h, perms, err := full.Hello(ctx)
	if err != nil || !h.AuthRequired() || perms&wxauth.PermRevokeUser == 0 {
		t.Fatalf("full caller: %v %+v %d", err, h, perms)
	}
	issued := login(t, full, s, "go-auth")

	reader := newClient(t, wxauth.Options{Addrs: []string{s.Addr()}, CallerID: "reader", CallerSecret: "r34d"})
	if _, perms, err := reader.Hello(ctx); err != nil || perms&wxauth.PermValidate == 0 || perms&wxauth.PermRevokeUser != 0 {
		t.Fatalf("reader: %v %d", err, perms)
	}
	if _, err := reader.Validate(ctx, issued.Token); err != nil {
		t.Fatal(err)
	}
	_, err = reader.RevokeUser(ctx, s.DevAppID, issued.Session.OpenID)
	wantStatus(t, err, wxauth.ErrNotAuthorized)
	if _, err := reader.Validate(ctx, issued.Token); err != nil { // the connection stays open
		t.Fatal(err)
	}

	_, err = wxauth.Dial(ctx, wxauth.Options{Addrs: []string{s.Addr()}, CallerID: "reader", CallerSecret: "wrong"})
	wantStatus(t, err, wxauth.ErrNotAuthorized)
	_, err = wxauth.Dial(ctx, wxauth.Options{Addrs: []string{s.Addr()}})
	wantStatus(t, err, wxauth.ErrNotAuthorized)
}

func TestIntegrationTimeout(t *testing.T) {
	s := startServer(t, nil)
	ctx := context.Background()
	c := newClient(t, wxauth.Options{Addrs: []string{s.Addr()}, PoolSize: 1})
	if _, err := s.Sim("/sim/latency", map[string]int{"ms": 1500}); err != nil {
		t.Fatal(err)
	}
	code, _ := mint(t, s, "go-slow")
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_, err := c.Login(short, s.DevAppID, code)
	if !errors.Is(err, wxauth.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) || !wxauth.Retryable(err) {
		t.Fatalf("got %v", err)
	}
	if _, err := c.Ping(ctx); err != nil { // the connection is still usable; the late answer is dropped
		t.Fatal(err)
	}
	// The same code later gets the session WeChat answered late (the server kept it for the code).
	r, err := c.Login(ctx, s.DevAppID, code)
	if err != nil || !tokenShape.MatchString(r.Token) {
		t.Fatal(err)
	}
}

func TestIntegrationFailover(t *testing.T) {
	a := startServer(t, nil)
	b := startServer(t, nil)
	ctx := context.Background()

	// A dead address first: connecting moves on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	c1 := newClient(t, wxauth.Options{Addrs: []string{dead, b.Addr()}})
	if _, err := c1.Ping(ctx); err != nil || c1.Addr() != b.Addr() {
		t.Fatalf("ping via the second address: %v (%s)", err, c1.Addr())
	}

	// A stops: the next requests go to B.
	c := newClient(t, wxauth.Options{Addrs: []string{a.Addr(), b.Addr()}, PoolSize: 1})
	if _, err := c.Ping(ctx); err != nil || c.Addr() != a.Addr() {
		t.Fatal(err)
	}
	a.Stop()
	code, openid := mint(t, b, "go-failover")
	r, err := c.Login(ctx, b.DevAppID, code)
	if err != nil || r.Session.OpenID != openid || c.Addr() != b.Addr() {
		t.Fatalf("login after A stopped: %v (%s)", err, c.Addr())
	}
	if _, err := c.Validate(ctx, r.Token); err != nil {
		t.Fatal(err)
	}

	// Only dead addresses: a connection error, no hang.
	c2 := newClient(t, wxauth.Options{Addrs: []string{dead, a.Addr()}})
	_, err = c2.Ping(ctx)
	if !errors.Is(err, wxauth.ErrConnectionLost) {
		t.Fatalf("got %v", err)
	}
}

// A server draining after SIGTERM closes its idle connections and answers new requests on busy ones SHUTTING_DOWN:
// a PING is repeated at the next address, a REVOKE is not (its error is returned), and the LOGINs in flight on the
// draining server still complete.
func TestIntegrationFailoverOnShuttingDown(t *testing.T) {
	a := startServer(t, nil)
	b := startServer(t, nil)
	ctx := context.Background()
	c := newClient(t, wxauth.Options{Addrs: []string{a.Addr(), b.Addr()}, PoolSize: 1})
	c2 := newClient(t, wxauth.Options{Addrs: []string{a.Addr(), b.Addr()}, PoolSize: 1})
	issued := login(t, c2, a, "go-drain")
	if _, err := a.Sim("/sim/latency", map[string]int{"ms": 2000}); err != nil {
		t.Fatal(err)
	}
	slow := make(chan error, 2)
	for i, cl := range []*wxauth.Client{c, c2} { // keep a request in flight on both connections
		code, openid := mint(t, a, fmt.Sprintf("go-drain-slow-%d", i))
		go func(cl *wxauth.Client) {
			r, err := cl.Login(ctx, a.DevAppID, code)
			if err == nil && r.Session.OpenID != openid {
				err = fmt.Errorf("wrong session")
			}
			slow <- err
		}(cl)
	}
	time.Sleep(300 * time.Millisecond) // the LOGINs are waiting on WeChat
	a.Signal(syscall.SIGTERM)
	time.Sleep(300 * time.Millisecond) // the drain has begun

	if _, err := c.Ping(ctx); err != nil || c.Addr() != b.Addr() { // SHUTTING_DOWN at A, repeated at B
		t.Fatalf("ping during the drain: %v (at %s)", err, c.Addr())
	}
	// Repeated at B, the REVOKE would answer INVALID_TOKEN (B does not know A's token): SHUTTING_DOWN shows it was not.
	wantStatus(t, c2.Revoke(ctx, issued.Token), wxauth.ErrShuttingDown)
	if c2.Addr() != b.Addr() {
		t.Fatal("c2 did not move to B")
	}
	for i := 0; i < 2; i++ {
		if err := <-slow; err != nil {
			t.Fatalf("a LOGIN in flight on the draining server: %v", err)
		}
	}
}

// A request larger than the max_frame the server announced is refused before it is sent (the server would close the
// connection).
func TestIntegrationRequestAboveMaxFrame(t *testing.T) {
	s := startServer(t, nil, "--max-frame", "1024")
	ctx := context.Background()
	c := newClient(t, wxauth.Options{Addrs: []string{s.Addr()}, PoolSize: 1})
	h, _, err := c.Hello(ctx)
	if err != nil || h.MaxFrame != 1024 {
		t.Fatalf("hello %+v %v", h, err)
	}
	issued := login(t, c, s, "go-maxframe")
	_, err = c.Decrypt(ctx, issued.Token, strings.Repeat("A", 1500), strings.Repeat("B", 24))
	var fl *wxauth.FieldLimitError
	if !errors.As(err, &fl) {
		t.Fatalf("got %v", err)
	}
	if _, err := c.Validate(ctx, issued.Token); err != nil { // same connection, still open
		t.Fatal(err)
	}
}
