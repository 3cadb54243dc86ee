package com.github.wxauth.client;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One request: an opcode and its fields in wire order (strings; AUTH's {@code proof} is a byte[]). Field limits are
 * checked when it is encoded. {@link #toString()} shows field names only, never values.
 */
public final class Request {
    private final Op op;
    private final Map<String, Object> fields;

    private Request(Op op, Object... values) {
        if (values.length != op.fields().size()) throw new IllegalArgumentException(op + " takes " + op.fields());
        this.op = op;
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < values.length; i++) {
            if (values[i] == null) throw new FieldLimitException(op.fields().get(i), "null");
            m.put(op.fields().get(i), values[i]);
        }
        this.fields = Collections.unmodifiableMap(m);
    }

    /** A request of any opcode, fields in {@link Op#fields()} order. */
    public static Request of(Op op, Object... values) {
        if (op == Op.HELLO) throw new IllegalArgumentException("HELLO is not a request");
        return new Request(op, values);
    }

    public static Request ping() { return new Request(Op.PING); }
    public static Request auth(String callerId, byte[] proof) { return new Request(Op.AUTH, callerId, proof.clone()); }
    public static Request login(String appId, String code) { return new Request(Op.LOGIN, appId, code); }
    public static Request validate(String token) { return new Request(Op.VALIDATE, token); }
    public static Request refresh(String token) { return new Request(Op.REFRESH, token); }
    public static Request revoke(String token) { return new Request(Op.REVOKE, token); }
    public static Request revokeUser(String appId, String openid) { return new Request(Op.REVOKE_USER, appId, openid); }
    public static Request decrypt(String token, String encryptedData, String iv) {
        return new Request(Op.DECRYPT, token, encryptedData, iv);
    }
    public static Request verifySignature(String token, String rawData, String signature) {
        return new Request(Op.VERIFY_SIGNATURE, token, rawData, signature);
    }
    public static Request phoneNumber(String token, String code) { return new Request(Op.PHONE_NUMBER, token, code); }
    public static Request checkSessionKey(String token) { return new Request(Op.CHECK_SESSION_KEY, token); }
    public static Request resetSessionKey(String token) { return new Request(Op.RESET_SESSION_KEY, token); }

    public Op op() { return op; }

    /** Field name to value (String, or byte[] for AUTH's proof), in wire order. */
    public Map<String, Object> fields() { return fields; }

    @Override
    public String toString() {
        return "Request[" + op + " " + fields.keySet() + "]";
    }
}
