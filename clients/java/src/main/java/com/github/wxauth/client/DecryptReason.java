package com.github.wxauth.client;

/** DECRYPT_FAILED's reason byte. */
public enum DecryptReason {
    BAD_BASE64(1, "bad_base64"),
    BAD_KEY_LENGTH(2, "bad_key_length"),
    BAD_IV_LENGTH(3, "bad_iv_length"),
    BAD_PADDING_OR_KEY(4, "bad_padding_or_key"),
    APPID_MISMATCH(5, "appid_mismatch"),
    STALE_WATERMARK(6, "stale_watermark");

    public final int code;
    public final String wireName;

    DecryptReason(int code, String wireName) {
        this.code = code;
        this.wireName = wireName;
    }

    /** The reason; one this client does not know is treated like BAD_PADDING_OR_KEY (PROTOCOL.md). */
    public static DecryptReason of(int code) {
        for (DecryptReason r : values()) {
            if (r.code == code) return r;
        }
        return BAD_PADDING_OR_KEY;
    }
}
