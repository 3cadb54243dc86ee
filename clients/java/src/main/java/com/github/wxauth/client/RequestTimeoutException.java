package com.github.wxauth.client;

/** No response in time. The request may still have been executed by the server. */
public class RequestTimeoutException extends WxAuthException {
    public RequestTimeoutException(String message) {
        super(message);
    }

    @Override
    public boolean isRetryable() {
        return true;
    }
}
