package com.github.wxauth.client;

/** A request field outside PROTOCOL.md's limits; nothing was sent. */
public class FieldLimitException extends WxAuthException {
    private final String field;

    public FieldLimitException(String field, String message) {
        super(field + ": " + message);
        this.field = field;
    }

    public String field() {
        return field;
    }
}
