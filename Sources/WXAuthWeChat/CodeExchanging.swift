/// What the session service needs from WeChat: exchange a `wx.login` code for the user's identity.
///
/// `WeChatAPIClient` is the real implementation (jscode2session over AsyncHTTPClient); tests may use any other.
public protocol CodeExchanging: Sendable {
    /// Exchanges `code` for openid, session_key and (when bound to an Open Platform account) unionid.
    /// Throws `WeChatError` and nothing else.
    func exchange(appID: String, secret: String, code: String) async throws(WeChatError) -> WeChatIdentity
}

/// A successful jscode2session answer.
public struct WeChatIdentity: Sendable, Hashable {
    public var openid: String
    /// base64 of 16 bytes, exactly as WeChat sent it.
    public var sessionKey: String
    public var unionid: String?

    public init(openid: String, sessionKey: String, unionid: String?) {
        self.openid = openid
        self.sessionKey = sessionKey
        self.unionid = unionid
    }
}

/// WeChat's answer mapped onto what a caller can do about it.
public enum WeChatError: Error, Sendable, Hashable {
    /// WeChat refused the request for good (40029 invalid code, 40163 code used, 40226 risky user, 40125 bad secret, ...).
    case rejected(errcode: Int32, errmsg: String)
    /// WeChat is busy (errcode -1) or gave no usable answer in time (errcode 0: timeout, connection failure, bad JSON).
    case unavailable(errcode: Int32, message: String)
    /// WeChat's quota (45011): retry after `retryAfterMilliseconds`.
    case rateLimited(errcode: Int32, errmsg: String, retryAfterMilliseconds: UInt32)
    /// The request never reached WeChat (connection refused, connect timeout, DNS): the code is still unused, so a
    /// retry is safe.
    case notSent(message: String)
    /// wxauthd's own connections to WeChat stayed busy for the whole wait: nothing was sent (the code is unused)
    /// and nothing is known about WeChat's health, so the circuit breaker does not count it.
    case overloaded(message: String)

    /// Failures that say nothing about the code and may be retried with the same code: WeChat busy (-1) and
    /// requests that were never sent. Never 40029, 40163, 40226 or 45011.
    public var isSafeToRetry: Bool {
        switch self {
        case .unavailable(let errcode, _): errcode == -1
        case .notSent: true
        case .rejected, .rateLimited, .overloaded: false
        }
    }

    /// Failures that count against WeChat's health (circuit breaker): it was busy or did not answer.
    public var isUpstreamFailure: Bool {
        switch self {
        case .unavailable, .notSent: true
        case .rejected, .rateLimited, .overloaded: false
        }
    }
}
