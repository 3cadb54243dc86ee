package com.github.wxauth.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Against a real `wxauthd --dev` (skipped when the binary is missing, unless WXAUTH_REQUIRE_SERVER=1). Codes,
 * encrypted user data and phone codes come from its embedded WeChat simulator.
 */
class IntegrationTest {
    private static TestServers.Server shared;

    @BeforeAll
    static void start() throws Exception {
        TestServers.requireServer();
        shared = TestServers.start(Map.of());
    }

    @AfterAll
    static void stop() {
        if (shared != null) shared.close();
    }

    private static WxAuthClient client(String... addresses) {
        return WxAuthClient.builder().addresses(addresses).requestTimeout(Duration.ofSeconds(10)).build();
    }

    private static ServerException status(Status expected, Runnable call) {
        ServerException e = assertThrows(ServerException.class, call::run);
        assertEquals(expected, e.status(), e.getMessage());
        return e;
    }

    private static boolean tokenShaped(String t) {
        return t.matches("[A-Za-z0-9_-]{1,128}");
    }

    @Test
    void helloAndPing() {
        try (WxAuthClient c = client(shared.address()); WxAuthClient other = client(shared.address())) {
            Hello h = c.hello();
            assertFalse(h.authRequired());
            assertEquals(32, h.nonce().length);
            assertTrue(h.maxFrame() >= 6);
            assertEquals(2047, c.permissions());
            assertFalse(java.util.Arrays.equals(h.nonce(), other.hello().nonce()), "a fresh nonce per connection");
            assertTrue(Math.abs(c.ping() - System.currentTimeMillis()) < 5000);
        }
    }

    @Test
    void loginValidateRepeatRevoke() throws Exception {
        try (WxAuthClient c = client(shared.address())) {
            Map<String, Object> minted = shared.mint("java-alice");
            String code = (String) minted.get("code");
            TokenResult issued = c.login(shared.devAppId, code);
            assertTrue(tokenShaped(issued.token()));
            assertFalse(issued.toString().contains(issued.token()), "toString shows the token");
            Session s = issued.session();
            assertEquals(shared.devAppId, s.appId());
            assertEquals(minted.get("openid"), s.openid());
            assertTrue(s.createdAt() <= s.expiresAt() && s.expiresAt() <= s.absoluteExpiresAt());
            Thread.sleep(10);
            Session v = c.validate(issued.token());
            assertEquals(s.openid(), v.openid());
            assertEquals(s.createdAt(), v.createdAt());
            assertTrue(v.expiresAt() >= s.expiresAt());
            assertEquals(s.absoluteExpiresAt(), v.absoluteExpiresAt());
            // A repeated LOGIN with the same code gets the same session while it is live.
            assertEquals(issued.token(), c.login(shared.devAppId, code).token());
            c.revoke(issued.token());
            ServerException e = status(Status.WECHAT_REJECTED, () -> c.login(shared.devAppId, code));
            assertEquals(40163, e.errcode());
            assertFalse(e.isRetryable());
            status(Status.UNKNOWN_APP, () -> c.login("wxnotconfigured01", code));
        }
    }

    @Test
    void refreshRevokeAndRevokeUser() throws Exception {
        try (WxAuthClient c = client(shared.address())) {
            TokenResult issued = c.login(shared.devAppId, shared.mintCode("java-carol"));
            TokenResult rotated = c.refresh(issued.token());
            assertNotEquals(issued.token(), rotated.token());
            assertEquals(issued.session().openid(), rotated.session().openid());
            assertEquals(issued.session().createdAt(), rotated.session().createdAt());
            assertEquals(issued.session().absoluteExpiresAt(), rotated.session().absoluteExpiresAt());
            assertEquals(rotated.token(), c.refresh(issued.token()).token(), "grace window");
            ServerException e = status(Status.TOKEN_REVOKED, () -> c.validate(issued.token()));
            assertTrue(e.status().isTokenUnusable());
            c.validate(rotated.token());
            c.revoke(rotated.token());
            status(Status.TOKEN_REVOKED, () -> c.revoke(rotated.token()));
            status(Status.INVALID_TOKEN, () -> c.validate("A".repeat(44)));
            status(Status.INVALID_TOKEN, () -> c.validate("not-a-token"));
            FieldLimitException fl = assertThrows(FieldLimitException.class, () -> c.validate(""));
            assertEquals("token", fl.field());

            List<String> tokens = new ArrayList<>();
            String openid = null;
            for (int i = 0; i < 3; i++) {
                TokenResult r = c.login(shared.devAppId, shared.mintCode("java-frank"));
                tokens.add(r.token());
                openid = r.session().openid();
            }
            c.revoke(tokens.get(0));
            assertEquals(2, c.revokeUser(shared.devAppId, openid));
            assertEquals(0, c.revokeUser(shared.devAppId, openid));
        }
    }

    @Test
    void concurrentAndPipelined() throws Exception {
        try (WxAuthClient c = WxAuthClient.builder().addresses(shared.address()).poolSize(1).build()) {
            TokenResult issued = c.login(shared.devAppId, shared.mintCode("java-gina"));
            List<CompletableFuture<Session>> all = new ArrayList<>();
            for (int i = 0; i < 500; i++) all.add(c.validateAsync(issued.token()));
            for (CompletableFuture<Session> f : all) assertEquals(issued.session().openid(), f.join().openid());

            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<Session>> blocking = new ArrayList<>();
                for (int i = 0; i < 200; i++) blocking.add(pool.submit(() -> c.validate(issued.token())));
                for (Future<Session> f : blocking) assertEquals(issued.session().openid(), f.get().openid());
            } finally {
                pool.shutdown();
            }

            String code = shared.mintCode("java-hank");
            List<CompletableFuture<Object>> r = c.pipeline(List.of(Request.login(shared.devAppId, code),
                    Request.validate("C".repeat(44)), Request.validate(issued.token()), Request.ping(),
                    Request.login(shared.devAppId, code), Request.validate("")));
            assertEquals(((TokenResult) r.get(0).join()).token(), ((TokenResult) r.get(4).join()).token());
            status(Status.INVALID_TOKEN, () -> WxAuthClient.await(r.get(1)));
            assertTrue(r.get(2).join() instanceof Session);
            assertTrue(r.get(3).join() instanceof Long);
            assertThrows(FieldLimitException.class, () -> WxAuthClient.await(r.get(5)));
        }
    }

    @Test
    void userData() throws Exception {
        try (WxAuthClient c = client(shared.address())) {
            TokenResult older = c.login(shared.devAppId, shared.mintCode("java-ud"));
            TokenResult issued = c.login(shared.devAppId, shared.mintCode("java-ud")); // WeChat replaces the key
            Map<String, Object> info = shared.sim("/sim/encrypt", Map.of("appid", shared.devAppId, "user", "java-ud",
                    "data", Map.of("nickName", "Alice", "city", "Guangzhou")));
            String enc = (String) info.get("encryptedData"), iv = (String) info.get("iv");
            String data = c.decrypt(issued.token(), enc, iv);
            assertTrue(data.contains("\"nickName\":\"Alice\"") && data.contains(shared.devAppId));
            assertEquals(data, c.decrypt(issued.token(), enc.replace('+', ' '), iv));
            ServerException e = status(Status.DECRYPT_FAILED, () -> c.decrypt(older.token(), enc, iv));
            assertEquals(DecryptReason.BAD_PADDING_OR_KEY, e.reason());
            assertFalse(e.isRetryable());
            assertEquals(DecryptReason.BAD_IV_LENGTH, status(Status.DECRYPT_FAILED, () -> c.decrypt(issued.token(), enc, "AAAA")).reason());

            String raw = (String) info.get("rawData"), sig = (String) info.get("signature");
            c.verifySignature(issued.token(), raw, sig);
            String bad = (sig.charAt(0) == '0' ? "1" : "0") + sig.substring(1);
            status(Status.SIGNATURE_MISMATCH, () -> c.verifySignature(issued.token(), raw, bad));

            assertTrue(c.checkSessionKey(issued.token()));
            assertFalse(c.checkSessionKey(older.token()));
            c.resetSessionKey(issued.token());
            assertTrue(c.checkSessionKey(issued.token()));
            Map<String, Object> fresh = shared.sim("/sim/encrypt", Map.of("appid", shared.devAppId, "user", "java-ud",
                    "data", Map.of("city", "Guangzhou")));
            assertTrue(c.decrypt(issued.token(), (String) fresh.get("encryptedData"), (String) fresh.get("iv")).contains("Guangzhou"));

            List<String> codes = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                codes.add((String) shared.sim("/sim/phone-code", Map.of("appid", shared.devAppId, "user", "java-ud",
                        "phone", "+86 1380013800" + i)).get("code"));
            }
            List<CompletableFuture<PhoneNumberResult>> phones = new ArrayList<>();
            for (String code : codes) phones.add(c.phoneNumberAsync(issued.token(), code));
            for (int i = 0; i < 5; i++) {
                assertEquals("1380013800" + i, phones.get(i).join().purePhoneNumber());
                assertEquals("86", phones.get(i).join().countryCode());
            }
            assertEquals(40163, status(Status.WECHAT_REJECTED, () -> c.phoneNumber(issued.token(), codes.get(0))).errcode());
        }
    }

    @Test
    void auth() throws Exception {
        Path cfg = Files.createTempFile("wxauth-java-callers-", ".json");
        Files.writeString(cfg, "{\"callers\": [{\"id\": \"orders-api\", \"secret_env\": \"WXAUTH_JAVA_T1\", \"permissions\": [\"ALL\"]},"
                + " {\"id\": \"reader\", \"secret_env\": \"WXAUTH_JAVA_T2\", \"permissions\": [\"VALIDATE\"]}]}");
        try (TestServers.Server s = TestServers.start(Map.of("WXAUTH_JAVA_T1", "s3cret", "WXAUTH_JAVA_T2", "r34d"),
                "--config", cfg.toString());
             WxAuthClient full = WxAuthClient.builder().addresses(s.address()).caller("orders-api", "s3cret").build();
             WxAuthClient reader = WxAuthClient.builder().addresses(s.address()).caller("reader", "r34d").build()) {
            assertTrue(full.hello().authRequired());
            assertTrue((full.permissions() & 32) != 0);
            TokenResult issued = full.login(s.devAppId, s.mintCode("java-auth"));
            assertTrue((reader.permissions() & 4) != 0 && (reader.permissions() & 32) == 0);
            reader.validate(issued.token());
            status(Status.NOT_AUTHORIZED, () -> reader.revokeUser(s.devAppId, issued.session().openid()));
            reader.validate(issued.token()); // the connection stays open
            try (WxAuthClient wrong = WxAuthClient.builder().addresses(s.address()).caller("reader", "wrong").build();
                 WxAuthClient none = client(s.address())) {
                status(Status.NOT_AUTHORIZED, wrong::ping);
                status(Status.NOT_AUTHORIZED, none::ping);
            }
        } finally {
            Files.deleteIfExists(cfg);
        }
    }

    @Test
    void timeout() throws Exception {
        try (TestServers.Server s = TestServers.start(Map.of());
             WxAuthClient c = WxAuthClient.builder().addresses(s.address()).poolSize(1)
                     .requestTimeout(Duration.ofMillis(300)).build();
             WxAuthClient patient = client(s.address())) {
            s.sim("/sim/latency", Map.of("ms", 1500));
            String code = s.mintCode("java-slow");
            RequestTimeoutException e = assertThrows(RequestTimeoutException.class, () -> c.login(s.devAppId, code));
            assertTrue(e.isRetryable());
            c.ping(); // still usable; the late answer is dropped
            assertTrue(tokenShaped(patient.login(s.devAppId, code).token()), "the code's late answer was kept");
        }
    }

    @Test
    void failover() throws Exception {
        int deadPort;
        try (ServerSocket ss = new ServerSocket(0)) {
            deadPort = ss.getLocalPort();
        }
        String dead = "127.0.0.1:" + deadPort;
        try (TestServers.Server a = TestServers.start(Map.of()); TestServers.Server b = TestServers.start(Map.of())) {
            try (WxAuthClient c1 = client(dead, b.address())) {
                c1.ping();
                assertEquals(b.address(), c1.currentAddress());
            }
            try (WxAuthClient c = WxAuthClient.builder().addresses(a.address(), b.address()).poolSize(1).build()) {
                c.ping();
                assertEquals(a.address(), c.currentAddress());
                a.stop();
                Map<String, Object> minted = b.mint("java-failover");
                TokenResult r = c.login(b.devAppId, (String) minted.get("code"));
                assertEquals(minted.get("openid"), r.session().openid());
                assertEquals(b.address(), c.currentAddress());
                c.validate(r.token());
            }
            try (WxAuthClient c2 = client(dead, a.address())) {
                assertThrows(ConnectionLostException.class, c2::ping);
            }
        }
    }

    /**
     * A server draining after SIGTERM closes its idle connections and answers new requests on busy ones
     * SHUTTING_DOWN: a PING is repeated at the next address, a REVOKE is not (its exception is thrown), and the
     * LOGINs in flight on the draining server still complete.
     */
    @Test
    void failoverOnShuttingDown() throws Exception {
        try (TestServers.Server a = TestServers.start(Map.of()); TestServers.Server b = TestServers.start(Map.of());
             WxAuthClient c = WxAuthClient.builder().addresses(a.address(), b.address()).poolSize(1).build();
             WxAuthClient c2 = WxAuthClient.builder().addresses(a.address(), b.address()).poolSize(1).build()) {
            TokenResult issued = c2.login(a.devAppId, a.mintCode("java-drain"));
            a.sim("/sim/latency", Map.of("ms", 2000));
            List<CompletableFuture<TokenResult>> slow = new ArrayList<>();
            List<Object> openids = new ArrayList<>();
            for (WxAuthClient cl : List.of(c, c2)) { // keep a request in flight on both connections
                Map<String, Object> minted = a.mint("java-drain-slow-" + slow.size());
                openids.add(minted.get("openid"));
                slow.add(cl.loginAsync(a.devAppId, (String) minted.get("code")));
            }
            Thread.sleep(300); // the LOGINs are waiting on WeChat
            a.proc.destroy(); // SIGTERM
            Thread.sleep(300); // the drain has begun
            c.ping(); // SHUTTING_DOWN at A, repeated at B
            assertEquals(b.address(), c.currentAddress());
            // Repeated at B, the REVOKE would be INVALID_TOKEN (B does not know A's token): SHUTTING_DOWN shows it was not.
            status(Status.SHUTTING_DOWN, () -> c2.revoke(issued.token()));
            assertEquals(b.address(), c2.currentAddress());
            for (int i = 0; i < 2; i++) assertEquals(openids.get(i), slow.get(i).join().session().openid());
        }
    }

    /** A request larger than the max_frame the server announced is refused before it is sent. */
    @Test
    void requestAboveMaxFrame() throws Exception {
        try (TestServers.Server s = TestServers.start(Map.of(), "--max-frame", "1024");
             WxAuthClient c = WxAuthClient.builder().addresses(s.address()).poolSize(1).build()) {
            assertEquals(1024, c.hello().maxFrame());
            TokenResult issued = c.login(s.devAppId, s.mintCode("java-maxframe"));
            assertThrows(FieldLimitException.class, () -> c.decrypt(issued.token(), "A".repeat(1500), "B".repeat(24)));
            c.validate(issued.token()); // still open
        }
    }
}
