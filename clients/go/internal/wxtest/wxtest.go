// Package wxtest starts a real `wxauthd --dev` for tests and the benchmark, and talks to its embedded WeChat
// simulator (codes, encrypted user data, phone codes).
package wxtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// RepoDir is the repository root (clients/go/internal/wxtest/../../../..).
func RepoDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", "..", ".."))
}

// VectorsPath is protocol/vectors/vectors.json (WXAUTH_VECTORS overrides).
func VectorsPath() string {
	if p := os.Getenv("WXAUTH_VECTORS"); p != "" {
		return p
	}
	return filepath.Join(RepoDir(), "protocol", "vectors", "vectors.json")
}

// Bin is the server binary: WXAUTHD_BIN, else <repo>/.build/debug/wxauthd.
func Bin() string {
	if p := os.Getenv("WXAUTHD_BIN"); p != "" {
		return p
	}
	return filepath.Join(RepoDir(), ".build", "debug", "wxauthd")
}

// SkipReason is "" when the binary exists, else why integration tests are skipped.
// With WXAUTH_REQUIRE_SERVER=1 a missing binary is returned as Required=true (the test must fail).
func SkipReason() (reason string, required bool) {
	if st, err := os.Stat(Bin()); err == nil && !st.IsDir() {
		return "", false
	}
	v := os.Getenv("WXAUTH_REQUIRE_SERVER")
	return fmt.Sprintf("wxauthd binary not found at %s (build it or set WXAUTHD_BIN)", Bin()), v != "" && v != "0"
}

// Server is a running wxauthd --dev.
type Server struct {
	cmd       *exec.Cmd
	Host      string
	Port      int
	Simulator string
	DevAppID  string
	LogPath   string
	exited    chan struct{}
}

// Addr is host:port.
func (s *Server) Addr() string { return fmt.Sprintf("%s:%d", s.Host, s.Port) }

// Start runs `wxauthd --dev --port 0 --sim-port 0 extra...` and returns once it printed its ready line.
func Start(env []string, extra ...string) (*Server, error) {
	args := append([]string{"--dev", "--port", "0", "--sim-port", "0"}, extra...)
	cmd := exec.Command(Bin(), args...)
	cmd.Env = append(os.Environ(), env...)
	logFile, err := os.CreateTemp("", "wxauthd-go-test-*.log")
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	logFile.Close()
	s := &Server{cmd: cmd, LogPath: logFile.Name(), exited: make(chan struct{})}
	go func() { cmd.Wait(); close(s.exited) }()
	lines := make(chan string, 1)
	go func() {
		br := bufio.NewReader(stdout)
		line, _ := br.ReadString('\n')
		lines <- line
		io.Copy(io.Discard, br) // keep draining
	}()
	select {
	case line := <-lines:
		var ready struct {
			Event, Host, Simulator string
			Port                   int
			DevAppID               string `json:"dev_app_id"`
		}
		if err := json.Unmarshal([]byte(line), &ready); err != nil || ready.Event != "ready" {
			s.Stop()
			return nil, fmt.Errorf("wxauthd: unexpected first line %q", line)
		}
		s.Host, s.Port, s.DevAppID = ready.Host, ready.Port, ready.DevAppID
		s.Simulator = strings.TrimRight(ready.Simulator, "/")
		return s, nil
	case <-time.After(30 * time.Second):
		s.Stop()
		return nil, errors.New("wxauthd printed no ready line within 30 s")
	}
}

// Signal sends sig to the server.
func (s *Server) Signal(sig os.Signal) { _ = s.cmd.Process.Signal(sig) }

// Exited is closed when the process has exited.
func (s *Server) Exited() <-chan struct{} { return s.exited }

// Stop sends SIGTERM and waits (SIGKILL after 10 s).
func (s *Server) Stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	s.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// Logs returns what the server wrote to stderr.
func (s *Server) Logs() string {
	b, _ := os.ReadFile(s.LogPath)
	return string(b)
}

// Sim POSTs a JSON body to the simulator's control endpoint path and decodes the JSON answer.
func (s *Server) Sim(path string, body interface{}) (map[string]interface{}, error) {
	raw, _ := json.Marshal(body)
	resp, err := http.Post(s.Simulator+path, "application/json", bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("simulator %s answered %d: %s", path, resp.StatusCode, data)
	}
	var out map[string]interface{}
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Mint returns a fresh login code and its openid for user.
func (s *Server) Mint(user string) (code, openid string, err error) {
	out, err := s.Sim("/sim/code", map[string]string{"appid": s.DevAppID, "user": user})
	if err != nil {
		return "", "", err
	}
	code, _ = out["code"].(string)
	openid, _ = out["openid"].(string)
	return code, openid, nil
}
