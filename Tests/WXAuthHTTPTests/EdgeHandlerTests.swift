import Foundation
import Logging
import NIOConcurrencyHelpers
import Testing
import WXAuthHTTP
import WXAuthProtocol
import WXAuthServer

/// The edge's rules over a recording backend: what reaches the server, and what is refused before it.
@Suite struct EdgeHandlerTests {
    final class Recorder: Sendable {
        let messages = NIOLockedValueBox<[RequestMessage]>([])
        let answer: @Sendable (RequestMessage) -> Response

        init(answer: @escaping @Sendable (RequestMessage) -> Response) { self.answer = answer }

        var backend: EdgeBackend {
            EdgeBackend(
                respond: { message in
                    self.messages.withLockedValue { $0.append(message) }
                    return self.answer(message)
                },
                callerPermissions: { id, secret in
                    switch (id, secret) {
                    case ("full", "full-secret"): .all
                    case ("phone-only", "phone-secret"): [.phoneNumber]
                    default: nil
                    }
                }
            )
        }
    }

    static let session = SessionView(appID: "wxa", openid: "o1", unionid: "", createdAt: 1, expiresAt: 2, absoluteExpiresAt: 3)

    static func ok(_ message: RequestMessage) -> Response {
        switch message {
        case .login: .loggedIn(token: "new-token", session: session)
        case .refresh: .refreshed(token: "next-token", session: session)
        case .revoke: .revoked
        case .validate: .validated(session)
        case .verifySignature: .signatureVerified
        case .decrypt: .decrypted(json: #"{"nickName":"A","watermark":{"appid":"wxa","timestamp":1}}"#)
        case .phoneNumber: .phoneNumber(.init(phoneNumber: "13800138000", purePhoneNumber: "13800138000", countryCode: "86"))
        default: .error(ServerError(.internalError, "unexpected"))
        }
    }

    func handler(_ recorder: Recorder, _ configure: (inout HTTPEdgeConfiguration) -> Void = { _ in }) -> EdgeHandler {
        var configuration = HTTPEdgeConfiguration()
        configure(&configuration)
        return EdgeHandler(configuration: configuration, backend: recorder.backend, logger: Logger(label: "test"))
    }

    func request(_ headers: [(String, String)] = [], json: String? = nil, peer: String = "127.0.0.1") -> EdgeRequest {
        EdgeRequest(headers: headers.map { (name: $0.0, value: $0.1) }, body: Array((json ?? "").utf8), peerAddress: peer)
    }

    func basic(_ id: String, _ secret: String) -> (String, String) {
        ("Authorization", "Basic " + Data("\(id):\(secret)".utf8).base64EncodedString())
    }

    func errorStatus(_ reply: EdgeReply) -> String? {
        let object = try? JSONSerialization.jsonObject(with: Data(reply.body ?? [])) as? [String: Any]
        return (object?["error"] as? [String: Any])?["status"] as? String
    }

    @Test func loginPassesAppAndCodeAndAnswersTheSession() async throws {
        let recorder = Recorder(answer: Self.ok)
        let reply = await handler(recorder).handle(.login, request(json: #"{"app_id":"wxa","code":"c0de","extra":1}"#))
        #expect(reply.status == 200)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(reply.body ?? [])) as? [String: Any])
        #expect(body["token"] as? String == "new-token")
        #expect(body["expires_at"] as? Int == 2)
        #expect(recorder.messages.withLockedValue { $0 } == [.login(.init(appID: "wxa", code: "c0de"))])
    }

    @Test func badBodiesNeverReachTheServer() async {
        let recorder = Recorder(answer: Self.ok)
        let edge = handler(recorder)
        for json in ["", "not json", "[]", #"{"app_id":"wxa"}"#, #"{"app_id":1,"code":"x"}"#, #"{"app_id":"wxa","code":""}"#,
                     #"{"app_id":"wxa","code":"\#(String(repeating: "x", count: 257))"}"#] {
            let reply = await edge.handle(.login, request(json: json))
            #expect(reply.status == 400, "\(json)")
            #expect(errorStatus(reply) == "MALFORMED_REQUEST", "\(json)")
        }
        #expect(recorder.messages.withLockedValue { $0 }.isEmpty)
    }

    @Test func refreshAndLogoutTakeTheTokenFromBodyOrBearer() async {
        let recorder = Recorder(answer: Self.ok)
        let edge = handler(recorder)
        #expect(await edge.handle(.refresh, request([("Authorization", "Bearer t1")])).status == 200)
        #expect(await edge.handle(.logout, request(json: #"{"token":"t2"}"#)).status == 200)
        #expect(await edge.handle(.logout, request()).status == 400)
        #expect(recorder.messages.withLockedValue { $0 } == [.refresh(.init(token: "t1")), .revoke(.init(token: "t2"))])
    }

    @Test func protectedRoutesNeedACallerWithThePermission() async {
        let recorder = Recorder(answer: Self.ok)
        let edge = handler(recorder)
        let body = #"{"token":"t","code":"p"}"#
        let anonymous = await edge.handle(.phoneNumber, request(json: body))
        #expect(anonymous.status == 401)
        #expect(anonymous.header("WWW-Authenticate") == #"Basic realm="wxauth-callers""#)
        #expect(errorStatus(anonymous) == "NOT_AUTHORIZED")
        #expect(await edge.handle(.phoneNumber, request([basic("full", "wrong")], json: body)).status == 401)
        #expect(await edge.handle(.phoneNumber, request([basic("phone-only", "phone-secret")], json: body)).status == 200)
        let userInfo = #"{"token":"t","encrypted_data":"e","iv":"i"}"#
        let forbidden = await edge.handle(.userInfo, request([basic("phone-only", "phone-secret")], json: userInfo))
        #expect(forbidden.status == 403)
        #expect(recorder.messages.withLockedValue { $0 }.count == 1)
        #expect(await edge.handle(.userInfo, request([basic("full", "full-secret")], json: userInfo)).status == 200)
    }

    @Test func publicRoutesAreConfigurable() async {
        let recorder = Recorder(answer: Self.ok)
        let closed = handler(recorder) { $0.publicRoutes = [.auth] }
        #expect(await closed.handle(.login, request(json: #"{"app_id":"a","code":"c"}"#)).status == 401)
        #expect(await closed.handle(.auth, request([("Authorization", "Bearer t")])).status == 200)
        let open = handler(recorder) { $0.publicRoutes = Set(HTTPEdgeConfiguration.Route.allCases) }
        #expect(await open.handle(.phoneNumber, request(json: #"{"token":"t","code":"p"}"#)).status == 200)
    }

    @Test func userInfoChecksTheSignatureBeforeDecrypting() async throws {
        let recorder = Recorder { message in
            if case .verifySignature = message { return .error(ServerError(.signatureMismatch, "signature mismatch")) }
            return Self.ok(message)
        }
        let edge = handler(recorder) { $0.publicRoutes = Set(HTTPEdgeConfiguration.Route.allCases) }
        let refused = await edge.handle(.userInfo, request(json: #"{"token":"t","encrypted_data":"e","iv":"i","raw_data":"{}","signature":"s"}"#))
        #expect(refused.status == 400)
        #expect(errorStatus(refused) == "SIGNATURE_MISMATCH")
        #expect(recorder.messages.withLockedValue { $0 }.count == 1)
        let half = await edge.handle(.userInfo, request(json: #"{"token":"t","encrypted_data":"e","iv":"i","raw_data":"{}"}"#))
        #expect(half.status == 400)
        let plain = await edge.handle(.userInfo, request(json: #"{"token":"t","encrypted_data":"e","iv":"i"}"#))
        let body = try #require(try JSONSerialization.jsonObject(with: Data(plain.body ?? [])) as? [String: Any])
        #expect((body["user_info"] as? [String: Any])?["nickName"] as? String == "A")
    }

    @Test func loginIsLimitedPerClientAddressAndForwardedForOnlyFromTrustedProxies() async {
        let recorder = Recorder(answer: Self.ok)
        let edge = handler(recorder) {
            $0.loginRatePerClient = RateLimit(perSecond: 0.001, burst: 2)
            $0.trustedProxies = ["127.0.0.1"]
        }
        let body = #"{"app_id":"a","code":"c"}"#
        #expect(await edge.handle(.login, request([("X-Forwarded-For", "1.1.1.1")], json: body)).status == 200)
        #expect(await edge.handle(.login, request([("X-Forwarded-For", "1.1.1.1")], json: body)).status == 200)
        let limited = await edge.handle(.login, request([("X-Forwarded-For", "1.1.1.1")], json: body))
        #expect(limited.status == 429)
        #expect(errorStatus(limited) == "RATE_LIMITED")
        #expect(Int(limited.header("Retry-After") ?? "") ?? 0 >= 1)
        // Another client behind the same proxy has its own bucket.
        #expect(await edge.handle(.login, request([("X-Forwarded-For", "2.2.2.2")], json: body)).status == 200)
        // An untrusted peer's X-Forwarded-For is ignored: its own address is the key.
        #expect(await edge.handle(.login, request([("X-Forwarded-For", "3.3.3.3")], json: body, peer: "192.0.2.7")).status == 200)
        #expect(await edge.handle(.login, request([("X-Forwarded-For", "4.4.4.4")], json: body, peer: "192.0.2.7")).status == 200)
        #expect(await edge.handle(.login, request([("X-Forwarded-For", "5.5.5.5")], json: body, peer: "192.0.2.7")).status == 429)
    }

    @Test func authAnswersFromValidateWithoutABody() async {
        let recorder = Recorder { _ in .error(ServerError(.tokenRevoked, "token revoked")) }
        let edge = handler(recorder) { $0.tokenCookie = "sid" }
        let reply = await edge.handle(.auth, request([("Cookie", "sid=tok")]))
        #expect(reply.status == 401)
        #expect(reply.header("X-WXAuth-Reason") == "revoked")
        #expect(reply.body == nil)
        #expect(recorder.messages.withLockedValue { $0 } == [.validate(.init(token: "tok"))])
        let missing = await edge.handle(.auth, request())
        #expect(missing.status == 401)
        #expect(recorder.messages.withLockedValue { $0 }.count == 1)
    }
}
