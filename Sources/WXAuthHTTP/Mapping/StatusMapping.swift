import WXAuthProtocol

/// Which HTTP status answers which wxauth status (protocol/HTTP.md "Errors"). One table for every route.
public enum StatusMapping {
    public static func httpStatus(for status: Status) -> Int {
        switch status {
        case .ok: 200
        case .malformedRequest, .unsupportedVersion, .unknownOpcode, .unknownApp, .decryptFailed, .signatureMismatch,
             .wechatRejected:
            400
        case .frameTooLarge: 413
        case .invalidToken, .tokenExpired, .tokenRevoked: 401
        case .notAuthorized: 403
        case .rateLimited: 429
        case .wechatUnavailable, .serverFull, .shuttingDown, .storeUnavailable: 503
        default: 500  // INTERNAL_ERROR and statuses this code does not know
        }
    }

    /// `Retry-After` in whole seconds (rounded up, at least 1) for RATE_LIMITED; nil for every other status.
    public static func retryAfterSeconds(for error: ServerError) -> Int? {
        guard error.status == .rateLimited else { return nil }
        let milliseconds = Int(error.retryAfterMilliseconds)
        return max(1, (milliseconds + 999) / 1000)
    }

    /// The `X-WXAuth-Reason` of a refused session: what the client should do differs (expired: log in again
    /// quietly; revoked: the user was logged out; invalid: a broken or forged token). nil for other statuses.
    public static func sessionReason(for status: Status) -> String? {
        switch status {
        case .tokenExpired: "expired"
        case .tokenRevoked: "revoked"
        case .invalidToken: "invalid"
        default: nil
        }
    }
}
