import WXAuthCrypto
import WXAuthProtocol
import WXAuthSessions
import WXAuthWeChat

extension ServerError {
    /// The answer a client gets for a session failure. Generic on purpose: no hint which check failed.
    init(_ error: SessionError) {
        switch error {
        case .invalidToken: self.init(.invalidToken, "unknown or invalid token")
        case .expired: self.init(.tokenExpired, "session expired; log in again")
        case .revoked: self.init(.tokenRevoked, "session revoked; log in again")
        case .unknownApp: self.init(.unknownApp, "app is not configured")
        case .full: self.init(.serverFull, "session capacity reached")
        case .malformedSessionKey: self.init(.wechatUnavailable, "WeChat returned a malformed session_key", errcode: 0)
        case .cryptoFailure: self.init(.internalError, "internal error")
        case .storeUnavailable:
            self.init(.storeUnavailable, "the session store is unavailable right now (its disk refuses writes, or Redis did not answer in time); nothing was changed, retry later")
        }
    }

    /// The answer to user data DECRYPT refused (the message never echoes the data or the key).
    init(_ error: UserDataError) {
        self.init(.decryptFailed, error.message, reason: DecryptFailureReason(rawValue: error.reason.rawValue))
    }

    /// The answer a client gets when WeChat said no or could not be reached.
    init(_ error: WeChatError) {
        switch error {
        case .rejected(let errcode, let errmsg):
            self.init(.wechatRejected, errmsg, errcode: errcode)
        case .unavailable(let errcode, let message):
            self.init(.wechatUnavailable, message, errcode: errcode)
        case .notSent(let message), .overloaded(let message):
            self.init(.wechatUnavailable, message, errcode: 0)
        case .rateLimited(let errcode, let errmsg, let retryAfter):
            self.init(.rateLimited, errmsg, errcode: errcode, retryAfterMilliseconds: retryAfter)
        }
    }
}
