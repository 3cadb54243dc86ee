package com.github.wxauth.client;

/**
 * The public view of a session (never the session_key). Times are Unix milliseconds, UTC.
 *
 * @param unionid empty when WeChat gave none
 * @param expiresAt the earlier of the idle deadline and the absolute deadline
 * @param absoluteExpiresAt never extended
 */
public record Session(String appId, String openid, String unionid, long createdAt, long expiresAt,
                      long absoluteExpiresAt) {
}
