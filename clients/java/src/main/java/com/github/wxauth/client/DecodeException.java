package com.github.wxauth.client;

/**
 * Bytes that do not follow the wire format. {@link #code()} names the failure like the "invalid" test vectors:
 * malformed, frame_too_short, frame_too_large, unknown_opcode, unsupported_version.
 */
public class DecodeException extends ProtocolException {
    private final String code;

    public DecodeException(String code, String message) {
        super(code + ": " + message);
        this.code = code;
    }

    public String code() {
        return code;
    }
}
