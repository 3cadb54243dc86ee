package com.github.wxauth.client;

/**
 * The connection failed or closed before the response arrived (or no connection could be made). Retryable on a new
 * connection, but the server may have executed the request.
 */
public class ConnectionLostException extends WxAuthException {
    public ConnectionLostException(String message) {
        super(message);
    }

    public ConnectionLostException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public boolean isRetryable() {
        return true;
    }
}
