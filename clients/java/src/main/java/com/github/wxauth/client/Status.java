package com.github.wxauth.client;

/** Response statuses of PROTOCOL.md, with its "retry?" column. */
public enum Status {
    OK(0x00, false),
    MALFORMED_REQUEST(0x01, false),
    UNSUPPORTED_VERSION(0x02, false),
    UNKNOWN_OPCODE(0x03, false),
    FRAME_TOO_LARGE(0x04, false),
    INVALID_TOKEN(0x10, false),
    TOKEN_EXPIRED(0x11, false),
    TOKEN_REVOKED(0x12, false),
    UNKNOWN_APP(0x13, false),
    DECRYPT_FAILED(0x14, false),
    SIGNATURE_MISMATCH(0x15, false),
    WECHAT_REJECTED(0x20, false),
    WECHAT_UNAVAILABLE(0x21, true),
    RATE_LIMITED(0x30, true),
    SERVER_FULL(0x31, true),
    NOT_AUTHORIZED(0x32, false),
    SHUTTING_DOWN(0x33, true),
    STORE_UNAVAILABLE(0x34, true),
    INTERNAL_ERROR(0x3F, true);

    public final int code;
    private final boolean retryable;

    Status(int code, boolean retryable) {
        this.code = code;
        this.retryable = retryable;
    }

    /** PROTOCOL.md's "retry?" column (a status this client does not know is not retryable). */
    public boolean isRetryable() {
        return retryable;
    }

    /**
     * The retryable statuses about the node (PROTOCOL.md "Clients and several nodes" rule 2): SHUTTING_DOWN,
     * STORE_UNAVAILABLE, SERVER_FULL, INTERNAL_ERROR make the client leave it. RATE_LIMITED and WECHAT_UNAVAILABLE
     * are about the caller or WeChat and keep it there.
     */
    public boolean leavesTheNode() {
        return this == SHUTTING_DOWN || this == STORE_UNAVAILABLE || this == SERVER_FULL || this == INTERNAL_ERROR;
    }

    /** INVALID_TOKEN, TOKEN_EXPIRED or TOKEN_REVOKED: the user must log in again. */
    public boolean isTokenUnusable() {
        return this == INVALID_TOKEN || this == TOKEN_EXPIRED || this == TOKEN_REVOKED;
    }

    /** The status, or null when this client does not know it. */
    public static Status of(int code) {
        for (Status s : values()) {
            if (s.code == code) return s;
        }
        return null;
    }

    /** "STATUS_0x40" for unknown codes. */
    public static String name(int code) {
        Status s = of(code);
        return s != null ? s.name() : String.format("STATUS_0x%02X", code);
    }
}
