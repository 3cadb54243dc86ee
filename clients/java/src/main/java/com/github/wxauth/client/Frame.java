package com.github.wxauth.client;

/** One frame: {@code kind} is the opcode of a request or the status of a response. */
public record Frame(int version, int kind, long requestId, byte[] body) {
}
