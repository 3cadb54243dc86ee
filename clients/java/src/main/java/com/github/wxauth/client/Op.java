package com.github.wxauth.client;

import java.util.List;

/** Request opcodes, with the fields of each request body in wire order. {@code HELLO} names the server's greeting. */
public enum Op {
    HELLO(0x00),
    PING(0x01),
    AUTH(0x02, "caller_id", "proof"),
    LOGIN(0x10, "app_id", "code"),
    VALIDATE(0x11, "token"),
    REFRESH(0x12, "token"),
    REVOKE(0x13, "token"),
    REVOKE_USER(0x14, "app_id", "openid"),
    DECRYPT(0x20, "token", "encrypted_data", "iv"),
    VERIFY_SIGNATURE(0x21, "token", "raw_data", "signature"),
    PHONE_NUMBER(0x22, "token", "code"),
    CHECK_SESSION_KEY(0x23, "token"),
    RESET_SESSION_KEY(0x24, "token");

    public final int code;
    private final List<String> fields;

    Op(int code, String... fields) {
        this.code = code;
        this.fields = List.of(fields);
    }

    /** The body's field names in wire order ({@code proof} is {@code bytes}, the rest {@code str}). */
    public List<String> fields() {
        return fields;
    }

    /** The opcode, or null when unknown. */
    public static Op of(int code) {
        for (Op op : values()) {
            if (op.code == code) return op;
        }
        return null;
    }

    /**
     * Whether the client may send this request again after a lost connection or a fail-over status: reads, and LOGIN
     * (the server remembers a code's outcome). REFRESH, REVOKE, REVOKE_USER, PHONE_NUMBER, RESET_SESSION_KEY: no.
     */
    public boolean safeToRepeat() {
        switch (this) {
            case PING: case VALIDATE: case DECRYPT: case VERIFY_SIGNATURE: case CHECK_SESSION_KEY: case LOGIN:
                return true;
            default:
                return false;
        }
    }
}
