package com.github.wxauth.client;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * wxauthd answered with a non-OK status. {@link #status()} is null for a status this client does not know (then
 * {@link #statusCode()} has it; it is not retryable and the connection is kept). {@link #serverMessage()} is the
 * server's human-readable text, which never contains a token, session_key or secret. Fields a status does not carry
 * are 0.
 */
public class ServerException extends WxAuthException {
    private final int statusCode;
    private final String serverMessage;
    private final long requestId;
    private final int errcode;
    private final long retryAfterMs;
    private final int supported;
    private final long maxFrame;
    private final int reasonCode;
    private final byte[] body;

    public ServerException(int statusCode, String serverMessage, long requestId, int errcode, long retryAfterMs,
                           int supported, long maxFrame, int reasonCode, byte[] body) {
        super(describe(statusCode, serverMessage, errcode, retryAfterMs, reasonCode));
        this.statusCode = statusCode;
        this.serverMessage = serverMessage;
        this.requestId = requestId;
        this.errcode = errcode;
        this.retryAfterMs = retryAfterMs;
        this.supported = supported;
        this.maxFrame = maxFrame;
        this.reasonCode = reasonCode;
        this.body = body == null ? new byte[0] : body.clone();
    }

    /** A status with only a message. */
    public ServerException(Status status, String serverMessage) {
        this(status.code, serverMessage, 0, 0, 0, 0, 0, 0, null);
    }

    private static String describe(int code, String message, int errcode, long retryAfterMs, int reason) {
        StringBuilder sb = new StringBuilder(Status.name(code));
        Status s = Status.of(code);
        if (s == Status.DECRYPT_FAILED) sb.append(" (").append(DecryptReason.of(reason).wireName).append(')');
        if (s == Status.WECHAT_REJECTED || s == Status.WECHAT_UNAVAILABLE) sb.append(" errcode=").append(errcode);
        if (s == Status.RATE_LIMITED) sb.append(" retry_after_ms=").append(retryAfterMs).append(" errcode=").append(errcode);
        if (message != null && !message.isEmpty()) sb.append(": ").append(message);
        return sb.toString();
    }

    public Status status() { return Status.of(statusCode); }
    public int statusCode() { return statusCode; }
    public String serverMessage() { return serverMessage; }
    public long requestId() { return requestId; }
    /** WECHAT_REJECTED, WECHAT_UNAVAILABLE, RATE_LIMITED. */
    public int errcode() { return errcode; }
    /** RATE_LIMITED. */
    public long retryAfterMs() { return retryAfterMs; }
    /** UNSUPPORTED_VERSION. */
    public int supported() { return supported; }
    /** FRAME_TOO_LARGE. */
    public long maxFrame() { return maxFrame; }
    /** DECRYPT_FAILED: the reason byte as sent. */
    public int reasonCode() { return reasonCode; }
    /** DECRYPT_FAILED: the reason to act on (unknown reasons read as BAD_PADDING_OR_KEY). */
    public DecryptReason reason() { return DecryptReason.of(reasonCode); }
    public byte[] body() { return body.clone(); }

    @Override
    public boolean isRetryable() {
        Status s = status();
        return s != null && s.isRetryable();
    }

    // ---- error bodies: the one place that knows their layouts ------------------------------------------------

    /**
     * Decodes the body of a non-OK status: every error body is {@code message str} first, then the status's own
     * fields (PROTOCOL.md "Responses and statuses"). A known status's body is consumed exactly; a status this client
     * does not know has its message read and the rest of its body skipped (later versions may add fields there).
     */
    public static ServerException decode(int statusCode, long requestId, byte[] body) {
        Status s = Status.of(statusCode);
        Codec.Reader r = new Codec.Reader(body);
        String message = r.str("message", false);
        if (s == null || s == Status.OK) {
            return new ServerException(statusCode, message, requestId, 0, 0, 0, 0, 0, body);
        }
        int errcode = 0, supported = 0, reason = 0;
        long retryAfter = 0, maxFrame = 0;
        switch (s) {
            case UNSUPPORTED_VERSION -> supported = r.u8("supported");
            case FRAME_TOO_LARGE -> maxFrame = r.u32("max_frame");
            case WECHAT_REJECTED, WECHAT_UNAVAILABLE -> errcode = r.i32("errcode");
            case RATE_LIMITED -> {
                retryAfter = r.u32("retry_after_ms");
                errcode = r.i32("errcode");
            }
            case DECRYPT_FAILED -> reason = r.u8("reason");
            default -> { }
        }
        r.end();
        return new ServerException(statusCode, message, requestId, errcode, retryAfter, supported, maxFrame, reason, body);
    }

    /** The error body (tests and fake servers); an unknown status sends {@link #body()} as is. */
    public byte[] encodeBody() {
        Status s = status();
        if (s == null) return body.clone();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Codec.writeStr(out, null, serverMessage);
        switch (s) {
            case UNSUPPORTED_VERSION -> out.write(supported);
            case FRAME_TOO_LARGE -> Codec.writeU32(out, maxFrame);
            case WECHAT_REJECTED, WECHAT_UNAVAILABLE -> Codec.writeU32(out, errcode);
            case RATE_LIMITED -> {
                Codec.writeU32(out, retryAfterMs);
                Codec.writeU32(out, errcode);
            }
            case DECRYPT_FAILED -> out.write(reasonCode);
            default -> { }
        }
        return out.toByteArray();
    }
}
