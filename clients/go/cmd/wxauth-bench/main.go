// Command wxauth-bench measures VALIDATE latency: N sequential calls on one connection (PoolSize 1).
//
//	WXAUTHD_BIN=/work/bin/wxauthd go run ./cmd/wxauth-bench -n 10000
//
// Without -addr it starts `wxauthd --dev` itself (WXAUTHD_BIN or <repo>/.build/debug/wxauthd) and logs in at its
// simulator; with -addr and -token it measures against a running server.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"time"

	wxauth "github.com/wxauth/wxauth/clients/go"
	"github.com/wxauth/wxauth/clients/go/internal/wxtest"
)

func main() {
	n := flag.Int("n", 10000, "measured VALIDATE calls")
	warmup := flag.Int("warmup", 1000, "unmeasured calls first")
	addr := flag.String("addr", "", "host:port of a running wxauthd (default: start wxauthd --dev)")
	token := flag.String("token", "", "token to validate (with -addr)")
	flag.Parse()
	ctx := context.Background()
	if *addr == "" {
		srv, err := wxtest.Start(nil)
		if err != nil {
			fail(err)
		}
		defer srv.Stop()
		*addr = srv.Addr()
		code, _, err := srv.Mint("bench")
		if err != nil {
			fail(err)
		}
		c, err := wxauth.New(wxauth.Options{Addrs: []string{*addr}, PoolSize: 1})
		if err != nil {
			fail(err)
		}
		r, err := c.Login(ctx, srv.DevAppID, code)
		if err != nil {
			fail(err)
		}
		*token = r.Token
		c.Close()
	}
	c, err := wxauth.New(wxauth.Options{Addrs: []string{*addr}, PoolSize: 1})
	if err != nil {
		fail(err)
	}
	defer c.Close()
	for i := 0; i < *warmup; i++ {
		if _, err := c.Validate(ctx, *token); err != nil {
			fail(err)
		}
	}
	lat := make([]time.Duration, *n)
	start := time.Now()
	for i := range lat {
		t0 := time.Now()
		if _, err := c.Validate(ctx, *token); err != nil {
			fail(err)
		}
		lat[i] = time.Since(t0)
	}
	total := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))] }
	fmt.Printf("go: VALIDATE x%d sequential on one connection: p50 %.1f us, p90 %.1f us, p99 %.1f us, max %.1f us, %.0f calls/s\n",
		*n, us(q(0.50)), us(q(0.90)), us(q(0.99)), us(lat[len(lat)-1]), float64(*n)/total.Seconds())
}

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }

func fail(err error) {
	fmt.Fprintln(os.Stderr, "wxauth-bench:", err)
	os.Exit(1)
}
