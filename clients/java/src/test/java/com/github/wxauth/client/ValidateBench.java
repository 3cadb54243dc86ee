package com.github.wxauth.client;

import java.util.Arrays;
import java.util.Map;

/**
 * VALIDATE latency: N sequential calls on one connection against a `wxauthd --dev` it starts (WXAUTHD_BIN).
 * Run with {@code clients/java/run-tests.sh --bench [N]}.
 */
public final class ValidateBench {
    private ValidateBench() {
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        if (args.length >= 3) {
            // A running server (host:port) and a token of it: clients/bench-validate.sh measures every client there.
            try (WxAuthClient c = WxAuthClient.builder().addresses(args[1]).poolSize(1).build()) {
                measure(c, args[2], n);
            }
            return;
        }
        try (TestServers.Server s = TestServers.start(Map.of());
             WxAuthClient c = WxAuthClient.builder().addresses(s.address()).poolSize(1).build()) {
            measure(c, c.login(s.devAppId, s.mintCode("bench")).token(), n);
        }
    }

    private static void measure(WxAuthClient c, String token, int n) throws Exception {
        int warmup = 5_000; // lets the JIT compile the hot path
        for (int i = 0; i < warmup; i++) c.validate(token);
        long[] lat = new long[n];
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            c.validate(token);
            lat[i] = System.nanoTime() - t0;
        }
        double total = (System.nanoTime() - start) / 1e9;
        Arrays.sort(lat);
        System.out.printf("java: VALIDATE x%d sequential on one connection: p50 %.1f us, p90 %.1f us, p99 %.1f us,"
                + " max %.1f us, %.0f calls/s%n", n, lat[n / 2] / 1e3, lat[(int) (n * 0.9)] / 1e3,
                lat[(int) (n * 0.99)] / 1e3, lat[n - 1] / 1e3, n / total);
    }
}
