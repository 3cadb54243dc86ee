import Foundation
import Testing
import WXAuthServer

/// deploy/nginx/wxauth.conf run by a real nginx in front of a real wxauthd edge and an echo upstream. Skipped when
/// nginx is not installed, unless WXAUTH_REQUIRE_NGINX=1 (CI).
@Suite(.serialized) struct NginxTests {
    @Test(.enabled(if: NginxUnderTest.binary != nil || NginxUnderTest.required, "nginx is not installed"))
    func apiIsBehindTheAuthCheck() async throws {
        try await EdgeUnderTest.with(configure: { $0.http.trustedProxies = ["127.0.0.1"] }) { edge in
            try await EchoUpstream.with { upstream, upstreamPort in
                try await NginxUnderTest.with(wxauthdHTTPPort: edge.httpPort, upstreamPort: upstreamPort) { nginx in
                    try await check(edge: edge, upstream: upstream, nginx: nginx)
                }
            }
        }
    }

    private func get(_ edge: EdgeUnderTest, _ nginx: NginxUnderTest, _ path: String, token: String? = nil,
                     headers: [(String, String)] = []) async throws -> HTTPAnswer {
        var all = headers
        if let token { all.append(("Authorization", "Bearer \(token)")) }
        return try await HTTPAnswer.send(edge.client, .GET, nginx.baseURL + path, headers: all)
    }

    private func check(edge: EdgeUnderTest, upstream: EchoUpstream, nginx: NginxUnderTest) async throws {
        // No token: 401 with the reason and the RFC 6750 challenge; the app never sees it, even with forged headers.
        let none = try await get(edge, nginx, "/api/me", headers: [("X-WXAuth-OpenID", "forged")])
        #expect(none.status == 401)
        #expect(none.header("X-WXAuth-Reason") == "invalid")
        #expect(none.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
        #expect(upstream.requests.withLockedValue { $0.count } == 0)

        // Login through nginx's /login, then the app sees the user.
        let login = try await HTTPAnswer.send(edge.client, .POST, nginx.baseURL + "/login",
                                              json: ["app_id": EdgeUnderTest.appID, "code": try edge.mintCode(user: "alice")])
        #expect(login.status == 200)
        let token = try #require(login.json?["token"] as? String)
        let identity = try edge.simulator.identity(appID: EdgeUnderTest.appID, user: "alice")
        let openid = identity.openid
        let allowed = try await get(edge, nginx, "/api/me", token: token, headers: [
            ("X-WXAuth-OpenID", "forged"), ("X-WXAuth-UnionID", "forged"), ("X-WXAuth-Expires", "99999999999999"),
        ])
        #expect(allowed.status == 200)
        let seen = try #require(upstream.requests.withLockedValue { $0.last })
        #expect(seen.path == "/api/me")
        #expect(seen.headers["x-wxauth-openid"] == openid)
        #expect(seen.headers["x-wxauth-app"] == EdgeUnderTest.appID)
        #expect(seen.headers["authorization"] == nil)
        // The session's unionid (none for this user), never the client's own header.
        #expect(seen.headers["x-wxauth-unionid"] == identity.unionid)
        #expect(seen.headers["x-wxauth-expires"] == String(login.json?["expires_at"] as? Int64 ?? -1))

        // Refreshed away: the old token is refused, the new one passes.
        let refresh = try await HTTPAnswer.send(edge.client, .POST, nginx.baseURL + "/refresh", headers: [("Authorization", "Bearer \(token)")])
        #expect(refresh.status == 200)
        let next = try #require(refresh.json?["token"] as? String)
        let old = try await get(edge, nginx, "/api/me", token: token)
        #expect(old.status == 401)
        #expect(old.header("X-WXAuth-Reason") == "revoked")
        #expect(try await get(edge, nginx, "/api/orders", token: next).status == 200)

        // Revoked (logout): refused.
        let logout = try await HTTPAnswer.send(edge.client, .POST, nginx.baseURL + "/logout", json: ["token": next])
        #expect(logout.status == 200)
        let revoked = try await get(edge, nginx, "/api/me", token: next)
        #expect(revoked.status == 401)
        #expect(revoked.header("X-WXAuth-Reason") == "revoked")

        // Expired: past the idle timeout on wxauthd's clock.
        let bob = try await edge.login(user: "bob")
        #expect(try await get(edge, nginx, "/api/me", token: bob).status == 200)
        edge.clock.advance(seconds: 1801)
        let expired = try await get(edge, nginx, "/api/me", token: bob)
        #expect(expired.status == 401)
        #expect(expired.header("X-WXAuth-Reason") == "expired")
        let garbage = try await get(edge, nginx, "/api/me", token: "garbage")
        #expect(garbage.status == 401)
        #expect(garbage.header("X-WXAuth-Reason") == "invalid")

        // The app saw exactly the three requests that passed, each with the user's openid.
        let all = upstream.requests.withLockedValue { $0 }
        #expect(all.map(\.path) == ["/api/me", "/api/orders", "/api/me"])
        #expect(all.allSatisfy { ($0.headers["x-wxauth-openid"] ?? "").isEmpty == false && $0.headers["x-wxauth-openid"] != "forged" })
    }
}
