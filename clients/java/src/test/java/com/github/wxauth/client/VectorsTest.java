package com.github.wxauth.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** Every entry of protocol/vectors/vectors.json, read from the file at test time. */
class VectorsTest {
    private static final HexFormat HEX = HexFormat.of();

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> list(String key) throws IOException {
        return (List<Map<String, Object>>) TestServers.vectors().get(key);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> decoded(Map<String, Object> v) {
        return (Map<String, Object>) v.get("decoded");
    }

    private static long num(Map<String, Object> m, String k) {
        return (Long) m.get(k);
    }

    @Test
    void tablesMatch() throws IOException {
        Map<String, Object> v = TestServers.vectors();
        assertEquals((long) Codec.VERSION, v.get("protocol_version"));
        Map<String, Object> ops = new LinkedHashMap<>();
        for (Op op : Op.values()) ops.put(op.name(), (long) op.code);
        Map<String, Object> statuses = new LinkedHashMap<>();
        for (Status s : Status.values()) statuses.put(s.name(), (long) s.code);
        Map<String, Object> reasons = new LinkedHashMap<>();
        for (DecryptReason r : DecryptReason.values()) reasons.put(r.wireName, (long) r.code);
        assertEquals(v.get("opcodes"), ops);
        assertEquals(v.get("statuses"), statuses);
        assertEquals(v.get("decrypt_failure_reasons"), reasons);
        assertTrue(list("requests").size() >= 8 && list("responses").size() >= 20 && list("invalid").size() >= 9);
    }

    /** The request built from a vector's decoded fields, independently of the decoder. */
    private static Request requestFrom(Map<String, Object> d) {
        Op op = Op.valueOf((String) d.get("op"));
        Object[] values = new Object[op.fields().size()];
        for (int i = 0; i < values.length; i++) {
            String name = op.fields().get(i);
            values[i] = name.equals("proof") ? HEX.parseHex((String) d.get("proof_hex")) : d.get(name);
        }
        return Request.of(op, values);
    }

    private static Map<String, Object> requestAsDict(long id, Request r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("request_id", id);
        m.put("op", r.op().name());
        r.fields().forEach((k, v) -> {
            if (v instanceof byte[] b) m.put(k + "_hex", HEX.formatHex(b));
            else m.put(k, v);
        });
        return m;
    }

    @TestFactory
    Stream<DynamicTest> requests() throws IOException {
        return list("requests").stream().map(v -> DynamicTest.dynamicTest((String) v.get("name"), () -> {
            Map<String, Object> d = decoded(v);
            byte[] frame = Codec.encodeRequest(num(d, "request_id"), requestFrom(d));
            assertEquals(v.get("hex"), HEX.formatHex(frame));
            Codec.RequestFrame rf = Codec.decodeRequest(HEX.parseHex((String) v.get("hex")), Codec.DEFAULT_MAX_FRAME);
            assertEquals(d, requestAsDict(rf.requestId(), rf.request()));
        }));
    }

    private static Map<String, Object> sessionDict(Session s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("app_id", s.appId());
        m.put("openid", s.openid());
        m.put("unionid", s.unionid());
        m.put("created_at", s.createdAt());
        m.put("expires_at", s.expiresAt());
        m.put("absolute_expires_at", s.absoluteExpiresAt());
        return m;
    }

    @SuppressWarnings("unchecked")
    private static Session sessionFrom(Object o) {
        Map<String, Object> m = (Map<String, Object>) o;
        return new Session((String) m.get("app_id"), (String) m.get("openid"), (String) m.get("unionid"),
                num(m, "created_at"), num(m, "expires_at"), num(m, "absolute_expires_at"));
    }

    private static Map<String, Object> okAsDict(Op op, Object v) {
        Map<String, Object> m = new LinkedHashMap<>();
        switch (op) {
            case HELLO -> {
                Hello h = (Hello) v;
                m.put("flags", (long) h.flags());
                m.put("nonce_hex", HEX.formatHex(h.nonce()));
                m.put("max_frame", h.maxFrame());
            }
            case PING -> m.put("server_time", v);
            case AUTH -> m.put("permissions", v);
            case LOGIN, REFRESH -> {
                m.put("token", ((TokenResult) v).token());
                m.put("session", sessionDict(((TokenResult) v).session()));
            }
            case VALIDATE -> m.put("session", sessionDict((Session) v));
            case REVOKE_USER -> m.put("revoked", v);
            case DECRYPT -> m.put("data", v);
            case PHONE_NUMBER -> {
                PhoneNumberResult p = (PhoneNumberResult) v;
                m.put("phone_number", p.phoneNumber());
                m.put("pure_phone_number", p.purePhoneNumber());
                m.put("country_code", p.countryCode());
            }
            case CHECK_SESSION_KEY -> m.put("current", v);
            default -> { }
        }
        return m;
    }

    private static Object okFrom(Op op, Map<String, Object> d) {
        return switch (op) {
            case HELLO -> new Hello((int) num(d, "flags"), HEX.parseHex((String) d.get("nonce_hex")), num(d, "max_frame"));
            case PING -> d.get("server_time");
            case AUTH -> d.get("permissions");
            case LOGIN, REFRESH -> new TokenResult((String) d.get("token"), sessionFrom(d.get("session")));
            case VALIDATE -> sessionFrom(d.get("session"));
            case REVOKE_USER -> d.get("revoked");
            case DECRYPT -> d.get("data");
            case PHONE_NUMBER -> new PhoneNumberResult((String) d.get("phone_number"), (String) d.get("pure_phone_number"),
                    (String) d.get("country_code"));
            case CHECK_SESSION_KEY -> d.get("current");
            default -> null;
        };
    }

    private static Map<String, Object> errorAsDict(ServerException e) {
        Map<String, Object> m = new LinkedHashMap<>();
        switch (e.status()) {
            case UNSUPPORTED_VERSION -> m.put("supported", (long) e.supported());
            case FRAME_TOO_LARGE -> m.put("max_frame", e.maxFrame());
            case RATE_LIMITED -> {
                m.put("retry_after_ms", e.retryAfterMs());
                m.put("errcode", (long) e.errcode());
            }
            case WECHAT_REJECTED, WECHAT_UNAVAILABLE -> m.put("errcode", (long) e.errcode());
            case DECRYPT_FAILED -> m.put("reason", e.reason().wireName);
            default -> { }
        }
        m.put("message", e.serverMessage());
        return m;
    }

    private static ServerException errorFrom(Map<String, Object> d) {
        int reason = 0;
        for (DecryptReason r : DecryptReason.values()) if (r.wireName.equals(d.get("reason"))) reason = r.code;
        return new ServerException(Status.valueOf((String) d.get("status")).code, (String) d.get("message"),
                num(d, "request_id"), d.containsKey("errcode") ? (int) num(d, "errcode") : 0,
                d.containsKey("retry_after_ms") ? num(d, "retry_after_ms") : 0,
                d.containsKey("supported") ? (int) num(d, "supported") : 0,
                d.containsKey("max_frame") ? num(d, "max_frame") : 0, reason, null);
    }

    /** Hands out one byte per read, so the frame reader has to reassemble. */
    private static InputStream trickle(byte[] data) {
        return new InputStream() {
            int pos;

            @Override
            public int read() {
                return pos < data.length ? data[pos++] & 0xFF : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (pos >= data.length) return -1;
                if (len == 0) return 0;
                b[off] = data[pos++];
                return 1;
            }
        };
    }

    @TestFactory
    Stream<DynamicTest> responses() throws IOException {
        return list("responses").stream().map(v -> DynamicTest.dynamicTest((String) v.get("name"), () -> {
            Map<String, Object> d = decoded(v);
            Op op = Op.valueOf((String) d.get("op"));
            byte[] data = HEX.parseHex((String) v.get("hex"));
            Frame f = Codec.readFrame(trickle(data), Codec.DEFAULT_MAX_FRAME);
            Map<String, Object> got = new LinkedHashMap<>();
            got.put("request_id", f.requestId());
            got.put("op", op.name());
            got.put("status", Status.name(f.kind()));
            byte[] encoded;
            if (f.kind() == 0) {
                got.putAll(okAsDict(op, Codec.decodeOk(op, f.body())));
                encoded = Codec.encodeOk(num(d, "request_id"), op, okFrom(op, d));
            } else {
                ServerException e = ServerException.decode(f.kind(), f.requestId(), f.body());
                got.putAll(errorAsDict(e));
                assertEquals(Status.valueOf((String) d.get("status")), e.status());
                assertEquals(e.status().isRetryable(), e.isRetryable());
                assertEquals(num(d, "request_id"), e.requestId());
                encoded = Codec.encodeError(num(d, "request_id"), errorFrom(d));
            }
            assertEquals(d, got);
            assertEquals(v.get("hex"), HEX.formatHex(encoded));
        }));
    }

    @TestFactory
    Stream<DynamicTest> invalid() throws IOException {
        return list("invalid").stream().map(v -> DynamicTest.dynamicTest((String) v.get("name"), () -> {
            byte[] data = HEX.parseHex((String) v.get("hex"));
            DecodeException e = assertThrows(DecodeException.class, () -> Codec.decodeRequest(data, Codec.DEFAULT_MAX_FRAME));
            assertEquals(v.get("expect"), e.code());
            if (((String) v.get("expect")).startsWith("frame_")) {
                // a bad length prefix is reported from its four bytes alone
                byte[] prefix = java.util.Arrays.copyOf(data, 4);
                DecodeException p = assertThrows(DecodeException.class,
                        () -> Codec.readFrame(new ByteArrayInputStream(prefix), Codec.DEFAULT_MAX_FRAME));
                assertEquals(v.get("expect"), p.code());
            }
        }));
    }

    /** unknown_statuses: a status this client does not know has its message read and the rest of its body skipped. */
    @TestFactory
    Stream<DynamicTest> unknownStatuses() throws IOException {
        List<Map<String, Object>> vectors = list("unknown_statuses");
        assertTrue(vectors.size() >= 2, "vector file looks truncated");
        return vectors.stream().map(v -> DynamicTest.dynamicTest((String) v.get("name"), () -> {
            Map<String, Object> d = decoded(v);
            Frame f = Codec.readFrame(new ByteArrayInputStream(HEX.parseHex((String) v.get("hex"))), Codec.DEFAULT_MAX_FRAME);
            assertEquals(num(d, "request_id"), f.requestId());
            assertEquals(num(d, "status_code"), (long) f.kind());
            assertNull(Status.of(f.kind()), "the vector's status is known to this client: it tests nothing");
            ServerException e = ServerException.decode(f.kind(), f.requestId(), f.body());
            assertNull(e.status());
            assertEquals(d.get("message"), e.serverMessage());
            assertFalse(e.isRetryable());
            if (f.body().length > 2 + e.serverMessage().getBytes(java.nio.charset.StandardCharsets.UTF_8).length) {
                // the same body under a known status without fields has bytes left over: a protocol error
                assertThrows(DecodeException.class, () -> ServerException.decode(Status.INVALID_TOKEN.code, 1, f.body()));
            }
        }));
    }

    /** auth_proofs: HMAC-SHA256 keyed with the caller secret's UTF-8 bytes (a hex-looking secret is not decoded). */
    @TestFactory
    Stream<DynamicTest> authProofs() throws IOException {
        List<Map<String, Object>> vectors = list("auth_proofs");
        assertTrue(vectors.size() >= 3, "vector file looks truncated");
        int[] i = {0};
        return vectors.stream().map(v -> DynamicTest.dynamicTest("auth_proof_" + i[0]++, () -> {
            byte[] secret = ((String) v.get("secret")).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            byte[] proof = Codec.authProof(secret, HEX.parseHex((String) v.get("nonce_hex")));
            assertTrue(v.get("proof_hex").equals(HEX.formatHex(proof)), "proof differs from the vector"); // no secret printed
        }));
    }

    /** Tokens are opaque: version 1 has 44 characters, version 2 (shared store) 52; any 1..128 is sent and received. */
    @Test
    void tokensOfAnyLengthUpTo128() throws IOException {
        for (int n : new int[] {1, 44, 52, 128}) {
            String tok = "A".repeat(n - 1) + "_";
            Codec.encodeRequest(1, Request.validate(tok));
            byte[] ok = Codec.encodeOk(1, Op.REFRESH, new TokenResult(tok, new Session("wx1", "o1", "", 1, 2, 3)));
            Frame f = Codec.readFrame(new ByteArrayInputStream(ok), Codec.DEFAULT_MAX_FRAME);
            assertEquals(tok, ((TokenResult) Codec.decodeOk(Op.REFRESH, f.body())).token());
        }
        assertThrows(FieldLimitException.class, () -> Codec.encodeRequest(1, Request.validate("A".repeat(129))));
    }

    @Test
    void unknownDecryptReasonIsBadPaddingOrKey() {
        assertEquals(DecryptReason.BAD_PADDING_OR_KEY, DecryptReason.of(99));
    }
}
