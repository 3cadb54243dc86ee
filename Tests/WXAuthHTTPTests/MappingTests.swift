import Foundation
import Testing
import WXAuthHTTP
import WXAuthProtocol

@Suite struct StatusMappingTests {
    @Test func everyStatusHasTheHTTPStatusOfTheTable() {
        let expected: [Status: Int] = [
            .malformedRequest: 400, .unsupportedVersion: 400, .unknownOpcode: 400, .frameTooLarge: 413,
            .invalidToken: 401, .tokenExpired: 401, .tokenRevoked: 401, .unknownApp: 400, .decryptFailed: 400,
            .signatureMismatch: 400, .wechatRejected: 400, .wechatUnavailable: 503, .rateLimited: 429,
            .serverFull: 503, .notAuthorized: 403, .shuttingDown: 503, .storeUnavailable: 503, .internalError: 500,
        ]
        for status in Status.all where status != .ok {
            #expect(StatusMapping.httpStatus(for: status) == expected[status], "\(status)")
        }
        #expect(StatusMapping.httpStatus(for: Status(rawValue: 0x77)) == 500)
    }

    @Test func retryAfterIsWholeSecondsRoundedUpAndOnlyForRateLimited() {
        #expect(StatusMapping.retryAfterSeconds(for: ServerError(.rateLimited, "x", retryAfterMilliseconds: 1)) == 1)
        #expect(StatusMapping.retryAfterSeconds(for: ServerError(.rateLimited, "x", retryAfterMilliseconds: 1000)) == 1)
        #expect(StatusMapping.retryAfterSeconds(for: ServerError(.rateLimited, "x", retryAfterMilliseconds: 1001)) == 2)
        #expect(StatusMapping.retryAfterSeconds(for: ServerError(.rateLimited, "x", retryAfterMilliseconds: 0)) == 1)
        #expect(StatusMapping.retryAfterSeconds(for: ServerError(.storeUnavailable, "x")) == nil)
    }

    @Test func sessionReasons() {
        #expect(StatusMapping.sessionReason(for: .tokenExpired) == "expired")
        #expect(StatusMapping.sessionReason(for: .tokenRevoked) == "revoked")
        #expect(StatusMapping.sessionReason(for: .invalidToken) == "invalid")
        #expect(StatusMapping.sessionReason(for: .malformedRequest) == nil)
    }
}

@Suite struct ErrorReplyTests {
    private func body(_ reply: EdgeReply) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(reply.body ?? [])) as? [String: Any]
        return try #require(object?["error"] as? [String: Any])
    }

    @Test func tokenExpiredHasTheShapeAndTheChallenge() throws {
        let reply = EdgeReply.error(ServerError(.tokenExpired, "token expired"))
        #expect(reply.status == 401)
        let error = try body(reply)
        #expect(error["status"] as? String == "TOKEN_EXPIRED")
        #expect(error["retryable"] as? Bool == false)
        #expect(error["message"] as? String == "token expired")
        #expect(error.count == 3)
        #expect(reply.header("X-WXAuth-Reason") == "expired")
        #expect(reply.header("WWW-Authenticate")?.hasPrefix(#"Bearer realm="wxauth", error="invalid_token""#) == true)
        #expect(reply.header("Content-Type") == "application/json; charset=utf-8")
    }

    @Test func rateLimitedCarriesRetryAfterInHeaderAndBody() throws {
        let reply = EdgeReply.error(ServerError(.rateLimited, "slow down", retryAfterMilliseconds: 2500))
        #expect(reply.status == 429)
        #expect(reply.header("Retry-After") == "3")
        let error = try body(reply)
        #expect(error["retry_after_ms"] as? Int == 2500)
        #expect(error["retryable"] as? Bool == true)
        #expect(reply.header("X-WXAuth-Reason") == nil)
    }

    @Test func decryptFailedNamesItsReasonAndWeChatErrorsTheirErrcode() throws {
        let decrypt = EdgeReply.error(ServerError(.decryptFailed, "no", reason: .staleWatermark))
        #expect(decrypt.status == 400)
        #expect(try body(decrypt)["reason"] as? String == "stale_watermark")
        let wechat = EdgeReply.error(ServerError(.wechatUnavailable, "busy", errcode: -1))
        #expect(wechat.status == 503)
        #expect(try body(wechat)["errcode"] as? Int == -1)
        #expect(try body(wechat)["retryable"] as? Bool == true)
    }
}

@Suite struct AuthCheckTests {
    let session = SessionView(appID: "wxapp", openid: "o-123", unionid: "", createdAt: 1, expiresAt: 1_800_000, absoluteExpiresAt: 9)

    @Test func validSessionGivesItsIdentityInHeadersAndNoBody() {
        let reply = AuthCheck.reply(for: .validated(session))
        #expect(reply.status == 200)
        #expect(reply.body == nil)
        #expect(reply.header("X-WXAuth-App") == "wxapp")
        #expect(reply.header("X-WXAuth-OpenID") == "o-123")
        #expect(reply.header("X-WXAuth-UnionID") == nil)
        #expect(reply.header("X-WXAuth-Expires") == "1800000")
        var withUnion = session
        withUnion.unionid = "u-9"
        #expect(AuthCheck.reply(for: .validated(withUnion)).header("X-WXAuth-UnionID") == "u-9")
    }

    @Test func refusalsAre401WithReasonAndNoBody() {
        for (status, reason) in [(Status.tokenExpired, "expired"), (.tokenRevoked, "revoked"), (.invalidToken, "invalid"), (.malformedRequest, "invalid")] {
            let reply = AuthCheck.reply(for: .error(ServerError(status, "secret-free message")))
            #expect(reply.status == 401)
            #expect(reply.body == nil)
            #expect(reply.header("X-WXAuth-Reason") == reason)
            #expect(reply.header("WWW-Authenticate") == AuthCheck.bearerChallenge(reason: reason))
        }
        #expect(AuthCheck.missingToken.status == 401)
        #expect(AuthCheck.missingToken.header("WWW-Authenticate") == #"Bearer realm="wxauth""#)
    }

    @Test func storeTroubleIsNotA401() {
        let reply = AuthCheck.reply(for: .error(ServerError(.storeUnavailable, "redis down")))
        #expect(reply.status == 503)
        #expect(reply.header("X-WXAuth-Status") == "STORE_UNAVAILABLE")
        #expect(reply.header("X-WXAuth-Reason") == nil)
        #expect(reply.body == nil)
    }
}

@Suite struct RequestPartsTests {
    @Test func bearerThenHeaderThenCookie() {
        let locator = TokenLocator(headerName: "X-Token", cookieName: "wxauth")
        func request(_ headers: [(String, String)]) -> EdgeRequest {
            EdgeRequest(headers: headers.map { (name: $0.0, value: $0.1) }, peerAddress: "127.0.0.1")
        }
        #expect(locator.token(in: request([("Authorization", "Bearer abc"), ("X-Token", "def")])) == "abc")
        #expect(locator.token(in: request([("authorization", "bearer   abc ")])) == "abc")
        #expect(locator.token(in: request([("Authorization", "Basic Zm9vOmJhcg=="), ("x-token", "def")])) == "def")
        #expect(locator.token(in: request([("Cookie", "a=1; wxauth=\"ghi\"; b=2")])) == "ghi")
        #expect(locator.token(in: request([("Cookie", "wxauthx=1")])) == nil)
        #expect(locator.token(in: request([("Authorization", "Bearer ")])) == nil)
        #expect(TokenLocator().token(in: request([("X-Token", "def"), ("Cookie", "wxauth=1")])) == nil)
    }

    @Test func forwardedForIsBelievedOnlyFromTrustedProxies() {
        let resolver = ClientAddressResolver(trustedProxies: ["10.0.0.1", "10.0.0.2"])
        #expect(resolver.clientAddress(peer: "203.0.113.9", forwardedFor: ["1.2.3.4"]) == "203.0.113.9")
        #expect(resolver.clientAddress(peer: "10.0.0.1", forwardedFor: ["1.2.3.4"]) == "1.2.3.4")
        // A client's own X-Forwarded-For entries (left) are not believed: the rightmost untrusted hop is.
        #expect(resolver.clientAddress(peer: "10.0.0.1", forwardedFor: ["6.6.6.6, 1.2.3.4, 10.0.0.2"]) == "1.2.3.4")
        #expect(resolver.clientAddress(peer: "10.0.0.1", forwardedFor: ["6.6.6.6", "1.2.3.4"]) == "1.2.3.4")
        #expect(resolver.clientAddress(peer: "10.0.0.1", forwardedFor: []) == "10.0.0.1")
        #expect(resolver.clientAddress(peer: "::ffff:10.0.0.1", forwardedFor: ["1.2.3.4"]) == "1.2.3.4")
    }

    @Test func basicCredentials() {
        let header = "Basic " + Data("svc:s3cr:et".utf8).base64EncodedString()
        #expect(CallerCredential.parse(authorization: header) == CallerCredential(callerID: "svc", secret: "s3cr:et"))
        #expect(CallerCredential.parse(authorization: "Bearer abc") == nil)
        #expect(CallerCredential.parse(authorization: "Basic !!!") == nil)
        #expect(CallerCredential.parse(authorization: "Basic " + Data("nocolon".utf8).base64EncodedString()) == nil)
        #expect(CallerCredential.parse(authorization: nil) == nil)
    }
}
