package wxauth_test

// The "exchanges" of protocol/vectors/vectors.json, run against a real wxauthd: whole conversations (request id 0,
// framing errors, the checks before and after AUTH, a second AUTH) checked with nothing but the vectors, a socket
// and this package's codec. One server per distinct caller configuration among the exchanges.

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	wxauth "github.com/wxauth/wxauth/clients/go"
	"github.com/wxauth/wxauth/clients/go/internal/wxtest"
)

type exchangeCaller struct {
	ID          string   `json:"id"`
	Secret      string   `json:"secret"`
	Permissions []string `json:"permissions"`
}

type exchangeStep struct {
	Send     *string `json:"send"`
	SendAuth *struct {
		CallerID  string `json:"caller_id"`
		Secret    string `json:"secret"`
		RequestID uint32 `json:"request_id"`
		Then      string `json:"then"`
	} `json:"send_auth"`
	Expect *struct {
		RequestID   uint32  `json:"request_id"`
		Status      string  `json:"status"`
		Permissions *uint32 `json:"permissions"`
	} `json:"expect"`
	ExpectClose bool `json:"expect_close"`
}

type exchange struct {
	Name    string           `json:"name"`
	Callers []exchangeCaller `json:"callers"`
	Steps   []exchangeStep   `json:"steps"`
}

func loadExchanges(t *testing.T) []exchange {
	t.Helper()
	raw, err := os.ReadFile(wxtest.VectorsPath())
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Exchanges []exchange `json:"exchanges"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Exchanges) < 10 {
		t.Fatal("vector file looks truncated: too few exchanges")
	}
	return v.Exchanges
}

func TestIntegrationExchanges(t *testing.T) {
	requireServer(t)
	exchanges := loadExchanges(t)
	servers := map[string]*wxtest.Server{}
	dir := t.TempDir()
	for _, ex := range exchanges {
		key, _ := json.Marshal(ex.Callers)
		if servers[string(key)] != nil {
			continue
		}
		var extra []string
		if len(ex.Callers) > 0 {
			conf, _ := json.Marshal(map[string]interface{}{"callers": ex.Callers})
			path := filepath.Join(dir, "callers-"+string(rune('a'+len(servers)))+".json")
			if err := os.WriteFile(path, conf, 0o600); err != nil {
				t.Fatal(err)
			}
			extra = []string{"--config", path}
		}
		servers[string(key)] = startServer(t, nil, extra...)
	}
	for _, ex := range exchanges {
		ex := ex
		key, _ := json.Marshal(ex.Callers)
		s := servers[string(key)]
		t.Run(ex.Name, func(t *testing.T) { runExchange(t, s, ex) })
	}
}

func runExchange(t *testing.T, s *wxtest.Server, ex exchange) {
	conn, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	hello, err := wxauth.ReadFrame(conn, 1<<24)
	if err != nil || hello.RequestID != 0 || hello.Kind != uint8(wxauth.StatusOK) {
		t.Fatalf("HELLO: %v %+v", err, hello)
	}
	h, err := wxauth.DecodeOK(wxauth.OpHello, hello.Body)
	if err != nil {
		t.Fatal(err)
	}
	nonce := h.(wxauth.Hello).Nonce
	for i, step := range ex.Steps {
		if step.Send != nil {
			if _, err := conn.Write(unhex(t, *step.Send)); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		}
		if a := step.SendAuth; a != nil {
			proof := wxauth.AuthProof([]byte(a.Secret), nonce)
			frame, err := wxauth.EncodeRequest(a.RequestID, wxauth.Auth{CallerID: a.CallerID, Proof: proof})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := conn.Write(append(frame, unhex(t, a.Then)...)); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		}
		if want := step.Expect; want != nil {
			f, err := wxauth.ReadFrame(conn, 1<<24)
			if err != nil {
				t.Fatalf("step %d: no answer: %v", i, err)
			}
			if f.RequestID != want.RequestID || wxauth.Status(f.Kind).String() != want.Status {
				t.Fatalf("step %d: got id %d %s, want id %d %s", i, f.RequestID, wxauth.Status(f.Kind), want.RequestID, want.Status)
			}
			if f.Kind == uint8(wxauth.StatusOK) {
				op := wxauth.OpPing
				if want.Permissions != nil {
					op = wxauth.OpAuth
				}
				v, err := wxauth.DecodeOK(op, f.Body)
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if want.Permissions != nil && v.(wxauth.AuthResult).Permissions != *want.Permissions {
					t.Fatalf("step %d: permissions %d, want %d", i, v.(wxauth.AuthResult).Permissions, *want.Permissions)
				}
			} else if _, err := wxauth.DecodeErrorBody(wxauth.Status(f.Kind), f.RequestID, f.Body); err != nil {
				t.Fatalf("step %d: the error body does not decode in the common shape: %v", i, err)
			}
		}
		if step.ExpectClose {
			var one [1]byte
			n, err := conn.Read(one[:])
			var ne net.Error
			if n != 0 || err == nil || (errors.As(err, &ne) && ne.Timeout()) || !(errors.Is(err, io.EOF) || isReset(err)) {
				t.Fatalf("step %d: the server should hang up, got %d bytes, %v", i, n, err)
			}
		}
	}
}

func isReset(err error) bool {
	return bytes.Contains([]byte(err.Error()), []byte("connection reset"))
}
