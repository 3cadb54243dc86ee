package com.github.wxauth.client;

/** The server's greeting: flags (bit 0: authentication required), a 32-byte nonce, the largest frame it accepts. */
public record Hello(int flags, byte[] nonce, long maxFrame) {
    public boolean authRequired() {
        return (flags & 1) != 0;
    }
}
