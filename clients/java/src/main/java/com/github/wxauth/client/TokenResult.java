package com.github.wxauth.client;

/** LOGIN's and REFRESH's answer: the (new) token and its session. {@link #toString()} never shows the token. */
public record TokenResult(String token, Session session) {
    @Override
    public String toString() {
        return "TokenResult[token=<redacted>, session=" + session + "]";
    }
}
