package com.github.wxauth.client;

/** Base of every exception of this client (unchecked). */
public class WxAuthException extends RuntimeException {
    public WxAuthException(String message) {
        super(message);
    }

    public WxAuthException(String message, Throwable cause) {
        super(message, cause);
    }

    /** Whether the request may be retried (see the subclasses). */
    public boolean isRetryable() {
        return false;
    }
}
