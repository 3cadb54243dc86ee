package com.github.wxauth.client;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Paths, the vectors file, and real `wxauthd --dev` processes with their simulator. */
final class TestServers {
    private TestServers() {
    }

    /** clients/java (the tests run from there: run-tests.sh cds into it). */
    static Path javaDir() {
        String d = System.getProperty("wxauth.java.dir");
        return Path.of(d != null ? d : ".").toAbsolutePath().normalize();
    }

    static Path repoDir() {
        return javaDir().getParent().getParent();
    }

    static Path vectorsPath() {
        String p = System.getenv("WXAUTH_VECTORS");
        return p != null && !p.isEmpty() ? Path.of(p) : repoDir().resolve("protocol/vectors/vectors.json");
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> vectors() throws IOException {
        return (Map<String, Object>) Json.parse(Files.readString(vectorsPath(), StandardCharsets.UTF_8));
    }

    static Path bin() {
        String p = System.getenv("WXAUTHD_BIN");
        return p != null && !p.isEmpty() ? Path.of(p) : repoDir().resolve(".build/debug/wxauthd");
    }

    /** Skips the test when the binary is missing, or fails it with WXAUTH_REQUIRE_SERVER=1. */
    static void requireServer() {
        if (Files.isExecutable(bin())) return;
        String msg = "wxauthd binary not found at " + bin() + " (build it or set WXAUTHD_BIN)";
        String req = System.getenv("WXAUTH_REQUIRE_SERVER");
        if (req != null && !req.isEmpty() && !req.equals("0")) throw new AssertionError(msg);
        org.junit.jupiter.api.Assumptions.assumeTrue(false, msg);
    }

    static final class Server implements AutoCloseable {
        final Process proc;
        final String host;
        final int port;
        final String simulator;
        final String devAppId;
        final Path log;
        private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(java.time.Duration.ofSeconds(10)).build();

        Server(Process proc, Map<String, Object> ready, Path log) {
            this.proc = proc;
            this.host = (String) ready.get("host");
            this.port = ((Long) ready.get("port")).intValue();
            this.simulator = ((String) ready.get("simulator")).replaceAll("/+$", "");
            this.devAppId = (String) ready.get("dev_app_id");
            this.log = log;
        }

        String address() {
            return host + ":" + port;
        }

        @SuppressWarnings("unchecked")
        Map<String, Object> sim(String path, Object body) throws IOException, InterruptedException {
            HttpRequest req = HttpRequest.newBuilder(URI.create(simulator + path))
                    .header("Content-Type", "application/json").timeout(java.time.Duration.ofSeconds(10))
                    .POST(HttpRequest.BodyPublishers.ofString(Json.write(body))).build();
            HttpResponse<String> resp = HTTP.send(req, HttpResponse.BodyHandlers.ofString());
            if (resp.statusCode() != 200) throw new IOException("simulator " + path + ": " + resp.statusCode() + " " + resp.body());
            return (Map<String, Object>) Json.parse(resp.body());
        }

        /** {code, openid} for a fresh login code of user. */
        Map<String, Object> mint(String user) throws IOException, InterruptedException {
            return sim("/sim/code", Map.of("appid", devAppId, "user", user));
        }

        String mintCode(String user) throws IOException, InterruptedException {
            return (String) mint(user).get("code");
        }

        String logs() throws IOException {
            return Files.exists(log) ? Files.readString(log) : "";
        }

        @Override
        public void close() {
            stop();
        }

        /** SIGTERM, then SIGKILL after 10 s. */
        void stop() {
            if (!proc.isAlive()) return;
            proc.destroy(); // SIGTERM
            try {
                if (!proc.waitFor(10, TimeUnit.SECONDS)) {
                    proc.destroyForcibly();
                    proc.waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** `wxauthd --dev --port 0 --sim-port 0 extra...`, once it printed its ready line. */
    static Server start(Map<String, String> env, String... extra) throws IOException, InterruptedException {
        requireServer();
        List<String> cmd = new ArrayList<>(List.of(bin().toString(), "--dev", "--port", "0", "--sim-port", "0"));
        cmd.addAll(List.of(extra));
        Path log = Files.createTempFile("wxauthd-java-test-", ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().putAll(env);
        Process proc = pb.start();
        InputStream stdout = proc.getInputStream();
        CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
            try {
                BufferedReader r = new BufferedReader(new InputStreamReader(stdout, StandardCharsets.UTF_8));
                String first = r.readLine();
                Thread drain = new Thread(() -> {
                    try {
                        while (r.readLine() != null) { /* keep draining */ }
                    } catch (IOException ignored) {
                        // exited
                    }
                });
                drain.setDaemon(true);
                drain.start();
                return first;
            } catch (IOException e) {
                return null;
            }
        });
        String first;
        try {
            first = line.get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            proc.destroyForcibly();
            throw new IOException("wxauthd printed no ready line within 30 s", e);
        }
        Object ready = first == null ? null : Json.parse(first);
        if (!(ready instanceof Map<?, ?> m) || !"ready".equals(m.get("event"))) {
            proc.destroyForcibly();
            throw new IOException("wxauthd: unexpected first line " + first);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> rm = (Map<String, Object>) ready;
        return new Server(proc, rm, log);
    }
}
