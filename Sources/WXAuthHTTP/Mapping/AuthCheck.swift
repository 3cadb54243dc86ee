import WXAuthProtocol

/// `GET /v1/auth`, the gateway check: no body either way (it is the hot path, and gateways read headers only).
public enum AuthCheck {
    /// The answer to VALIDATE's response.
    public static func reply(for response: Response) -> EdgeReply {
        switch response {
        case .validated(let session):
            var headers = [
                EdgeHeader(EdgeHeaderName.app, session.appID),
                EdgeHeader(EdgeHeaderName.openID, session.openid),
            ]
            if !session.unionid.isEmpty { headers.append(EdgeHeader(EdgeHeaderName.unionID, session.unionid)) }
            headers.append(EdgeHeader(EdgeHeaderName.expires, String(session.expiresAt)))
            headers.append(EdgeHeader(EdgeHeaderName.cacheControl, "no-store"))
            return EdgeReply(status: 200, headers: headers)
        case .error(let error):
            return refusal(error)
        default:
            return refusal(ServerError(.internalError, "internal error"))
        }
    }

    /// No token in the request: 401 with the RFC 6750 §3.1 challenge that carries no error code, reason invalid.
    public static let missingToken = EdgeReply(status: 401, headers: [
        EdgeHeader(EdgeHeaderName.wwwAuthenticate, #"Bearer realm="wxauth""#),
        EdgeHeader(EdgeHeaderName.reason, "invalid"),
        EdgeHeader(EdgeHeaderName.cacheControl, "no-store"),
    ])

    static func refusal(_ error: ServerError) -> EdgeReply {
        if let reason = StatusMapping.sessionReason(for: error.status) {
            return EdgeReply(status: 401, headers: [
                EdgeHeader(EdgeHeaderName.wwwAuthenticate, bearerChallenge(reason: reason)),
                EdgeHeader(EdgeHeaderName.reason, reason),
                EdgeHeader(EdgeHeaderName.cacheControl, "no-store"),
            ])
        }
        // MALFORMED_REQUEST (a token over the length limit) is an invalid token to a gateway.
        if error.status == .malformedRequest { return refusal(ServerError(.invalidToken, error.message)) }
        var headers = [EdgeHeader(EdgeHeaderName.status, error.status.name), EdgeHeader(EdgeHeaderName.cacheControl, "no-store")]
        if let seconds = StatusMapping.retryAfterSeconds(for: error) {
            headers.append(EdgeHeader(EdgeHeaderName.retryAfter, String(seconds)))
        }
        return EdgeReply(status: StatusMapping.httpStatus(for: error.status), headers: headers)
    }

    /// `Bearer realm="wxauth", error="invalid_token", error_description="..."` (RFC 6750 §3): fixed texts, so
    /// nothing from the request is ever echoed into a header.
    public static func bearerChallenge(reason: String) -> String {
        let description = switch reason {
        case "expired": "the session expired"
        case "revoked": "the session was revoked"
        default: "the token is not valid"
        }
        return #"Bearer realm="wxauth", error="invalid_token", error_description="\#(description)""#
    }
}
