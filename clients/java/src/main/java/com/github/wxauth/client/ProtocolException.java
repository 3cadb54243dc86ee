package com.github.wxauth.client;

/** The server sent something that does not follow the protocol. */
public class ProtocolException extends WxAuthException {
    public ProtocolException(String message) {
        super(message);
    }

    public ProtocolException(String message, Throwable cause) {
        super(message, cause);
    }
}
