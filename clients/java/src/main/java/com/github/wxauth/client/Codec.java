package com.github.wxauth.client;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The wire format of protocol/PROTOCOL.md, version 1. Pure functions, no I/O beyond reading one frame from a stream.
 * Both directions are implemented (requests are also decoded, responses also encoded) so that the shared test
 * vectors can be checked in full and tests can script a fake server.
 *
 * <p>Frame: {@code length u32 | version u8 | kind u8 | request_id u32 | body}; length counts the header and body.
 */
public final class Codec {
    public static final int VERSION = 1;
    public static final int HEADER_SIZE = 6;
    public static final long DEFAULT_MAX_FRAME = 65536;
    /** What the client accepts from a server (responses are small; this only bounds memory). */
    public static final long MAX_INCOMING_FRAME = 4L << 20;
    public static final int NONCE_SIZE = 32;
    public static final int PROOF_SIZE = 32;
    public static final long MAX_REQUEST_ID = 0xFFFFFFFFL;

    /** Byte-length limits of request fields (PROTOCOL.md "Field limits"): {min, max}. */
    static final Map<String, int[]> LIMITS = Map.of(
            "app_id", new int[] {1, 64}, "code", new int[] {1, 256}, "token", new int[] {1, 128},
            "openid", new int[] {1, 128}, "caller_id", new int[] {1, 64}, "encrypted_data", new int[] {1, 60000},
            "iv", new int[] {1, 64}, "raw_data", new int[] {0, 60000}, "signature", new int[] {1, 128});

    private Codec() {
    }

    /** HMAC-SHA256(key = the caller secret's bytes, message = "wxauth-auth-v1" || nonce). */
    public static byte[] authProof(byte[] secret, byte[] nonce) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            // SecretKeySpec refuses an empty key; HMAC pads a short key with zeros, so one zero byte is the same key.
            mac.init(new SecretKeySpec(secret.length == 0 ? new byte[1] : secret, "HmacSHA256"));
            mac.update("wxauth-auth-v1".getBytes(StandardCharsets.US_ASCII));
            mac.update(nonce);
            return mac.doFinal();
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- frames --------------------------------------------------------------------------------------------------

    public static byte[] encodeFrame(int version, int kind, long requestId, byte[] body) {
        ByteBuffer b = ByteBuffer.allocate(4 + HEADER_SIZE + body.length);
        b.putInt(HEADER_SIZE + body.length).put((byte) version).put((byte) kind).putInt((int) requestId).put(body);
        return b.array();
    }

    static void checkLength(long length, long maxFrame) {
        if (length < HEADER_SIZE) {
            throw new DecodeException("frame_too_short", "length " + length + " is below the 6-byte header");
        }
        if (length > maxFrame) {
            throw new DecodeException("frame_too_large", "length " + length + " exceeds the limit of " + maxFrame);
        }
    }

    /** Reads one frame; a bad length prefix is reported as soon as its 4 bytes are read. EOF before any byte: null. */
    public static Frame readFrame(InputStream in, long maxFrame) throws IOException {
        byte[] prefix = new byte[4];
        int got = readFully(in, prefix);
        if (got == 0) return null;
        if (got < 4) throw new EOFException("connection closed inside a frame");
        long length = ByteBuffer.wrap(prefix).getInt() & 0xFFFFFFFFL;
        checkLength(length, maxFrame);
        byte[] rest = new byte[(int) length];
        if (readFully(in, rest) < rest.length) throw new EOFException("connection closed inside a frame");
        ByteBuffer b = ByteBuffer.wrap(rest);
        int version = b.get() & 0xFF, kind = b.get() & 0xFF;
        long id = b.getInt() & 0xFFFFFFFFL;
        byte[] body = new byte[rest.length - HEADER_SIZE];
        b.get(body);
        return new Frame(version, kind, id, body);
    }

    private static int readFully(InputStream in, byte[] buf) throws IOException {
        int off = 0;
        while (off < buf.length) {
            int n = in.read(buf, off, buf.length - off);
            if (n < 0) break;
            off += n;
        }
        return off;
    }

    /** Exactly one complete frame held in data. */
    public static Frame parseFrame(byte[] data, long maxFrame) {
        if (data.length < 4) throw new DecodeException("malformed", data.length + " bytes, no length prefix");
        long length = ByteBuffer.wrap(data).getInt() & 0xFFFFFFFFL;
        checkLength(length, maxFrame);
        if (data.length - 4 != length) {
            throw new DecodeException("malformed", "length prefix says " + length + " bytes, " + (data.length - 4) + " follow");
        }
        ByteBuffer b = ByteBuffer.wrap(data, 4, data.length - 4);
        int version = b.get() & 0xFF, kind = b.get() & 0xFF;
        long id = b.getInt() & 0xFFFFFFFFL;
        byte[] body = new byte[data.length - 4 - HEADER_SIZE];
        b.get(body);
        return new Frame(version, kind, id, body);
    }

    // ---- primitives ------------------------------------------------------------------------------------------------

    static void writeU32(ByteArrayOutputStream out, long v) {
        out.write((int) (v >>> 24));
        out.write((int) (v >>> 16));
        out.write((int) (v >>> 8));
        out.write((int) v);
    }

    static void writeI64(ByteArrayOutputStream out, long v) {
        writeU32(out, v >>> 32);
        writeU32(out, v);
    }

    static void writeBytes(ByteArrayOutputStream out, String field, byte[] raw) {
        if (raw.length > 0xFFFF) throw new FieldLimitException(field == null ? "bytes" : field, "longer than 65535 bytes");
        out.write(raw.length >>> 8);
        out.write(raw.length);
        out.write(raw, 0, raw.length);
    }

    /** A str; with a field name that has limits, the limits are checked. */
    static void writeStr(ByteArrayOutputStream out, String field, String value) {
        byte[] raw = value.getBytes(StandardCharsets.UTF_8);
        int[] lim = field == null ? null : LIMITS.get(field);
        if (lim != null && (raw.length < lim[0] || raw.length > lim[1])) {
            throw new FieldLimitException(field, raw.length + " bytes, must be " + lim[0] + ".." + lim[1]);
        }
        writeBytes(out, field, raw);
    }

    /** Reads the fields of one body; every failure is a malformed {@link DecodeException}. */
    static final class Reader {
        private final byte[] buf;
        private int pos;

        Reader(byte[] buf) {
            this.buf = buf;
        }

        private int take(int n, String what) {
            if (n > buf.length - pos) {
                throw new DecodeException("malformed", what + ": needs " + n + " bytes, " + (buf.length - pos) + " left");
            }
            int at = pos;
            pos += n;
            return at;
        }

        int u8(String what) {
            return buf[take(1, what)] & 0xFF;
        }

        int u16(String what) {
            int at = take(2, what);
            return ((buf[at] & 0xFF) << 8) | (buf[at + 1] & 0xFF);
        }

        long u32(String what) {
            return ByteBuffer.wrap(buf, take(4, what), 4).getInt() & 0xFFFFFFFFL;
        }

        int i32(String what) {
            return ByteBuffer.wrap(buf, take(4, what), 4).getInt();
        }

        long i64(String what) {
            return ByteBuffer.wrap(buf, take(8, what), 8).getLong();
        }

        byte[] blob(String what) {
            int n = u16(what);
            int at = take(n, what);
            byte[] out = new byte[n];
            System.arraycopy(buf, at, out, 0, n);
            return out;
        }

        String str(String what, boolean limited) {
            byte[] raw = blob(what);
            int[] lim = limited ? LIMITS.get(what) : null;
            if (lim != null && (raw.length < lim[0] || raw.length > lim[1])) {
                throw new DecodeException("malformed", what + ": " + raw.length + " bytes, must be " + lim[0] + ".." + lim[1]);
            }
            try {
                return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(raw)).toString();
            } catch (CharacterCodingException e) {
                throw new DecodeException("malformed", what + ": invalid UTF-8");
            }
        }

        void end() {
            if (pos != buf.length) throw new DecodeException("malformed", (buf.length - pos) + " trailing bytes after the body");
        }
    }

    // ---- requests --------------------------------------------------------------------------------------------------

    /** The body of a request (field limits checked). */
    public static byte[] encodeRequestBody(Request request) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Map.Entry<String, Object> f : request.fields().entrySet()) {
            if (f.getValue() instanceof byte[] raw) {
                if (f.getKey().equals("proof") && raw.length != PROOF_SIZE) {
                    throw new FieldLimitException("proof", raw.length + " bytes, must be " + PROOF_SIZE);
                }
                writeBytes(out, f.getKey(), raw);
            } else {
                writeStr(out, f.getKey(), (String) f.getValue());
            }
        }
        return out.toByteArray();
    }

    /** The complete frame of one request. */
    public static byte[] encodeRequest(long requestId, Request request) {
        return encodeFrame(VERSION, request.op().code, requestId, encodeRequestBody(request));
    }

    /** A decoded request frame. */
    public record RequestFrame(long requestId, Request request) {
    }

    /** Decodes a request frame the way a server must (version, opcode, exact body, field limits). */
    public static RequestFrame decodeRequest(byte[] data, long maxFrame) {
        Frame f = parseFrame(data, maxFrame);
        if (f.version() != VERSION) {
            throw new DecodeException("unsupported_version", "protocol version " + f.version() + " is not supported");
        }
        Op op = Op.of(f.kind());
        if (op == null || op == Op.HELLO) {
            throw new DecodeException("unknown_opcode", String.format("unknown opcode 0x%02x", f.kind()));
        }
        Reader r = new Reader(f.body());
        Object[] values = new Object[op.fields().size()];
        for (int i = 0; i < values.length; i++) {
            String name = op.fields().get(i);
            if (name.equals("proof")) {
                byte[] proof = r.blob(name);
                if (proof.length != PROOF_SIZE) throw new DecodeException("malformed", "proof: " + proof.length + " bytes, must be 32");
                values[i] = proof;
            } else {
                values[i] = r.str(name, true);
            }
        }
        r.end();
        return new RequestFrame(f.requestId(), Request.of(op, values));
    }

    // ---- OK response bodies ----------------------------------------------------------------------------------------

    private static Session readSession(Reader r) {
        return new Session(r.str("session.app_id", false), r.str("session.openid", false),
                r.str("session.unionid", false), r.i64("session.created_at"), r.i64("session.expires_at"),
                r.i64("session.absolute_expires_at"));
    }

    /**
     * The OK body of a response to {@code op}: HELLO {@link Hello}; PING Long (server time, Unix ms); AUTH Long
     * (permissions); LOGIN, REFRESH {@link TokenResult}; VALIDATE {@link Session}; REVOKE, VERIFY_SIGNATURE,
     * RESET_SESSION_KEY null; REVOKE_USER Long (revoked); DECRYPT String; PHONE_NUMBER {@link PhoneNumberResult};
     * CHECK_SESSION_KEY Boolean.
     */
    public static Object decodeOk(Op op, byte[] body) {
        Reader r = new Reader(body);
        Object out;
        switch (op) {
            case HELLO -> {
                int flags = r.u8("flags");
                byte[] nonce = r.blob("nonce");
                if (nonce.length != NONCE_SIZE) throw new DecodeException("malformed", "nonce: " + nonce.length + " bytes, must be 32");
                out = new Hello(flags, nonce, r.u32("max_frame"));
            }
            case PING -> out = r.i64("server_time");
            case AUTH -> out = r.u32("permissions");
            case LOGIN, REFRESH -> out = new TokenResult(r.str("token", false), readSession(r));
            case VALIDATE -> out = readSession(r);
            case REVOKE, VERIFY_SIGNATURE, RESET_SESSION_KEY -> out = null;
            case REVOKE_USER -> out = r.u32("revoked");
            case DECRYPT -> out = r.str("data", false);
            case PHONE_NUMBER -> out = new PhoneNumberResult(r.str("phone_number", false),
                    r.str("pure_phone_number", false), r.str("country_code", false));
            case CHECK_SESSION_KEY -> {
                int v = r.u8("current");
                if (v > 1) throw new DecodeException("malformed", "current: " + v + " is not 0 or 1");
                out = v == 1;
            }
            default -> throw new DecodeException("malformed", "no OK body for " + op);
        }
        r.end();
        return out;
    }

    private static void writeSession(ByteArrayOutputStream out, Session s) {
        writeStr(out, null, s.appId());
        writeStr(out, null, s.openid());
        writeStr(out, null, s.unionid());
        writeI64(out, s.createdAt());
        writeI64(out, s.expiresAt());
        writeI64(out, s.absoluteExpiresAt());
    }

    /** The complete OK response frame for a value shaped like {@link #decodeOk}'s (tests and fake servers). */
    public static byte[] encodeOk(long requestId, Op op, Object value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        switch (op) {
            case HELLO -> {
                Hello h = (Hello) value;
                out.write(h.flags());
                writeBytes(out, "nonce", h.nonce());
                writeU32(out, h.maxFrame());
            }
            case PING -> writeI64(out, (Long) value);
            case AUTH, REVOKE_USER -> writeU32(out, (Long) value);
            case LOGIN, REFRESH -> {
                TokenResult t = (TokenResult) value;
                writeStr(out, null, t.token());
                writeSession(out, t.session());
            }
            case VALIDATE -> writeSession(out, (Session) value);
            case REVOKE, VERIFY_SIGNATURE, RESET_SESSION_KEY -> { }
            case DECRYPT -> writeStr(out, null, (String) value);
            case PHONE_NUMBER -> {
                PhoneNumberResult p = (PhoneNumberResult) value;
                writeStr(out, null, p.phoneNumber());
                writeStr(out, null, p.purePhoneNumber());
                writeStr(out, null, p.countryCode());
            }
            case CHECK_SESSION_KEY -> out.write(((Boolean) value) ? 1 : 0);
            default -> throw new IllegalArgumentException(op.toString());
        }
        return encodeFrame(VERSION, Status.OK.code, requestId, out.toByteArray());
    }

    /** The complete error response frame. */
    public static byte[] encodeError(long requestId, ServerException e) {
        return encodeFrame(VERSION, e.statusCode(), requestId, e.encodeBody());
    }
}
