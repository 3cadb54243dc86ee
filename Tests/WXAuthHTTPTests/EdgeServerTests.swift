import Foundation
import NIOHTTP1
import Testing
import WXAuthServer

/// The edge in front of a real server and WeChat simulator; every answer is also checked against
/// protocol/openapi.json.
@Suite(.serialized) struct EdgeServerTests {
    let spec: OpenAPIChecker

    init() throws { spec = try OpenAPIChecker.load() }

    func conforms(_ method: String, _ path: String, _ answer: HTTPAnswer, sourceLocation: SourceLocation = #_sourceLocation) {
        let problems = spec.problems(method, path, answer)
        #expect(problems.isEmpty, "\(problems)", sourceLocation: sourceLocation)
    }

    @Test func loginThenAuthGivesTheSessionsIdentity() async throws {
        try await EdgeUnderTest.with { edge in
            let code = try edge.mintCode(user: "alice")
            let login = try await edge.send(.POST, "/v1/login", json: ["app_id": EdgeUnderTest.appID, "code": code])
            conforms("POST", "/v1/login", login)
            #expect(login.status == 200)
            let token = try #require(login.json?["token"] as? String)
            let openid = try edge.simulator.identity(appID: EdgeUnderTest.appID, user: "alice").openid

            let auth = try await edge.send(.GET, "/v1/auth", headers: [("Authorization", "Bearer \(token)")])
            conforms("GET", "/v1/auth", auth)
            #expect(auth.status == 200)
            #expect(auth.body.isEmpty)
            #expect(auth.header("X-WXAuth-App") == EdgeUnderTest.appID)
            #expect(auth.header("X-WXAuth-OpenID") == openid)
            #expect(Int64(auth.header("X-WXAuth-Expires") ?? "") == login.json?["expires_at"] as? Int64)
        }
    }

    @Test func refusedTokensGive401WithTheirReason() async throws {
        try await EdgeUnderTest.with { edge in
            let none = try await edge.send(.GET, "/v1/auth")
            conforms("GET", "/v1/auth", none)
            #expect(none.status == 401)
            #expect(none.header("X-WXAuth-Reason") == "invalid")

            let forged = try await edge.send(.GET, "/v1/auth", headers: [("Authorization", "Bearer not-a-token")])
            conforms("GET", "/v1/auth", forged)
            #expect(forged.header("X-WXAuth-Reason") == "invalid")
            #expect(forged.header("WWW-Authenticate")?.contains(#"error="invalid_token""#) == true)

            // Refreshed away: the old token is refused (revoked), the new one works.
            let first = try await edge.login()
            let refresh = try await edge.send(.POST, "/v1/refresh", headers: [("Authorization", "Bearer \(first)")])
            conforms("POST", "/v1/refresh", refresh)
            let second = try #require(refresh.json?["token"] as? String)
            #expect(second != first)
            let old = try await edge.send(.GET, "/v1/auth", headers: [("Authorization", "Bearer \(first)")])
            #expect(old.status == 401)
            #expect(old.header("X-WXAuth-Reason") == "revoked")
            #expect(try await edge.send(.GET, "/v1/auth", headers: [("Authorization", "Bearer \(second)")]).status == 200)

            // Logged out.
            let logout = try await edge.send(.POST, "/v1/logout", json: ["token": second])
            conforms("POST", "/v1/logout", logout)
            #expect(logout.json?["revoked"] as? Bool == true)
            let gone = try await edge.send(.GET, "/v1/auth", headers: [("Authorization", "Bearer \(second)")])
            #expect(gone.header("X-WXAuth-Reason") == "revoked")
            let again = try await edge.send(.POST, "/v1/refresh", json: ["token": second])
            conforms("POST", "/v1/refresh", again)
            #expect(again.status == 401)
            #expect(again.errorStatus == "TOKEN_REVOKED")

            // Expired: past the idle timeout on the server's clock.
            let third = try await edge.login(user: "bob")
            edge.clock.advance(seconds: 1801)
            let expired = try await edge.send(.GET, "/v1/auth", headers: [("Authorization", "Bearer \(third)")])
            conforms("GET", "/v1/auth", expired)
            #expect(expired.status == 401)
            #expect(expired.header("X-WXAuth-Reason") == "expired")
        }
    }

    @Test func loginErrorsAreTypedJSON() async throws {
        try await EdgeUnderTest.with { edge in
            let broken = try await edge.send(.POST, "/v1/login", rawBody: Array("{nope".utf8))
            conforms("POST", "/v1/login", broken)
            #expect(broken.status == 400)
            #expect(broken.errorStatus == "MALFORMED_REQUEST")
            let unknownApp = try await edge.send(.POST, "/v1/login", json: ["app_id": "wxnotconfigured01", "code": "abc"])
            conforms("POST", "/v1/login", unknownApp)
            #expect(unknownApp.status == 400)
            #expect(unknownApp.errorStatus == "UNKNOWN_APP")
            let badCode = try await edge.send(.POST, "/v1/login", json: ["app_id": EdgeUnderTest.appID, "code": "never-minted"])
            conforms("POST", "/v1/login", badCode)
            #expect(badCode.status == 400)
            #expect(badCode.errorStatus == "WECHAT_REJECTED")
            let huge = try await edge.send(.POST, "/v1/login", rawBody: Array(repeating: UInt8(ascii: " "), count: 70_000))
            conforms("POST", "/v1/login", huge)
            #expect(huge.status == 413)
        }
    }

    @Test func loginIsLimitedPerClient() async throws {
        try await EdgeUnderTest.with(configure: { $0.http.loginRatePerClient = RateLimit(perSecond: 0.001, burst: 1) }) { edge in
            _ = try await edge.login()
            let limited = try await edge.send(.POST, "/v1/login", json: ["app_id": EdgeUnderTest.appID, "code": try edge.mintCode()])
            conforms("POST", "/v1/login", limited)
            #expect(limited.status == 429)
            #expect(limited.errorStatus == "RATE_LIMITED")
            #expect(Int(limited.header("Retry-After") ?? "") ?? 0 >= 1)
        }
    }

    @Test func userInfoAndPhoneNumberNeedACallerAndAnswerTheData() async throws {
        try await EdgeUnderTest.with { edge in
            let token = try await edge.login(user: "carol")
            let signed = try edge.simulator.encryptUserData(appID: EdgeUnderTest.appID, user: "carol", data: ["nickName": "Carol"])
            let fields: [String: Any] = [
                "token": token, "encrypted_data": signed.encryptedData, "iv": signed.iv,
                "raw_data": signed.rawData, "signature": signed.signature,
            ]
            let anonymous = try await edge.send(.POST, "/v1/user-info", json: fields)
            conforms("POST", "/v1/user-info", anonymous)
            #expect(anonymous.status == 401)
            #expect(anonymous.errorStatus == "NOT_AUTHORIZED")

            let info = try await edge.send(.POST, "/v1/user-info", headers: [EdgeUnderTest.callerAuthorization], json: fields)
            conforms("POST", "/v1/user-info", info)
            #expect(info.status == 200)
            let user = try #require(info.json?["user_info"] as? [String: Any])
            #expect(user["nickName"] as? String == "Carol")

            var tampered = fields
            tampered["signature"] = String(repeating: "0", count: 40)
            let mismatch = try await edge.send(.POST, "/v1/user-info", headers: [EdgeUnderTest.callerAuthorization], json: tampered)
            conforms("POST", "/v1/user-info", mismatch)
            #expect(mismatch.errorStatus == "SIGNATURE_MISMATCH")

            let phoneCode = try edge.simulator.mintPhoneCode(appID: EdgeUnderTest.appID, user: "carol", phone: "13800138000")
            let phone = try await edge.send(.POST, "/v1/phone-number", headers: [EdgeUnderTest.callerAuthorization],
                                            json: ["token": token, "code": phoneCode])
            conforms("POST", "/v1/phone-number", phone)
            #expect(phone.json?["pure_phone_number"] as? String == "13800138000")
        }
    }
}

@Suite struct OpenAPICheckerTests {
    /// The checker must be able to fail, or the conformance checks above prove nothing.
    @Test func flagsAnswersThatDoNotConform() throws {
        let spec = try OpenAPIChecker.load()
        var headers = HTTPHeaders([("Content-Type", "application/json"), ("Cache-Control", "no-store")])
        let good = HTTPAnswer(status: 200, headers: headers, body: Array(#"{"token":"t","expires_at":1,"absolute_expires_at":2}"#.utf8))
        #expect(spec.problems("POST", "/v1/login", good).isEmpty)
        let missingField = HTTPAnswer(status: 200, headers: headers, body: Array(#"{"token":"t","expires_at":1}"#.utf8))
        #expect(!spec.problems("POST", "/v1/login", missingField).isEmpty)
        let wrongType = HTTPAnswer(status: 200, headers: headers, body: Array(#"{"token":"t","expires_at":"1","absolute_expires_at":2}"#.utf8))
        #expect(!spec.problems("POST", "/v1/login", wrongType).isEmpty)
        let extra = HTTPAnswer(status: 200, headers: headers, body: Array(#"{"token":"t","expires_at":1,"absolute_expires_at":2,"session_key":"k"}"#.utf8))
        #expect(!spec.problems("POST", "/v1/login", extra).isEmpty)
        #expect(!spec.problems("POST", "/v1/login", HTTPAnswer(status: 418, headers: headers, body: [])).isEmpty)
        headers.add(name: "X-WXAuth-Reason", value: "sleepy")
        #expect(!spec.problems("GET", "/v1/auth", HTTPAnswer(status: 401, headers: headers, body: [])).isEmpty)
        let boolAsInt = HTTPAnswer(status: 200, headers: headers, body: Array(#"{"revoked":1}"#.utf8))
        #expect(!spec.problems("POST", "/v1/logout", boolAsInt).isEmpty)
    }
}
