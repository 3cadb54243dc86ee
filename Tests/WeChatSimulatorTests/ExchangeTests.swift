import Foundation
import Testing
import WXAuthWeChat
import WeChatSimulator

/// jscode2session through the real client against a real simulator: identities and WeChat's refusals.
@Suite(.timeLimit(.minutes(1)))
struct ExchangeTests {
    @Test func openidsAreStablePerUserAndDistinctAcrossUsersAndApps() async throws {
        try await withSimulator { harness in
            let sim = harness.simulator
            let first = try await harness.client.exchange(
                appID: TestApps.dev, secret: TestApps.devSecret, code: try sim.mintCode(appID: TestApps.dev, user: "alice"))
            let second = try await harness.client.exchange(
                appID: TestApps.dev, secret: TestApps.devSecret, code: try sim.mintCode(appID: TestApps.dev, user: "alice"))
            let bob = try await harness.client.exchange(
                appID: TestApps.dev, secret: TestApps.devSecret, code: try sim.mintCode(appID: TestApps.dev, user: "bob"))
            let aliceElsewhere = try await harness.client.exchange(
                appID: TestApps.other, secret: TestApps.otherSecret,
                code: try sim.mintCode(appID: TestApps.other, user: "alice"))

            // Same user, same openid; a fresh login replaces the session_key (WeChat keeps one current key).
            #expect(first.openid == second.openid && first.unionid == second.unionid)
            #expect(first.sessionKey != second.sessionKey)
            #expect(first.openid.count == 28)
            #expect(first.openid.hasPrefix("o"))
            #expect(first.openid.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
            #expect(Data(base64Encoded: first.sessionKey)?.count == 16)
            #expect(first.unionid == nil)
            #expect(bob.openid != first.openid)
            #expect(aliceElsewhere.openid != first.openid)
            let known = try sim.identity(appID: TestApps.dev, user: "alice")
            #expect(known.openid == first.openid && known.sessionKey == second.sessionKey)
        }
    }

    @Test func fixtureUsersGetTheirExactIdentity() async throws {
        let fixture = """
            {"apps":[{"appid":"wxfixture0000001","secret":"fixturesecret","users":[
              {"user":"alice","openid":"oFixtureAlice000000000000001","session_key":"AAECAwQFBgcICQoLDA0ODw==","unionid":"uFixtureAlice"},
              {"user":"bob","openid":"oFixtureBob00000000000000002","session_key":"EBESExQVFhcYGRobHB0eHw=="}]}]}
            """
        let configuration = try WeChatSimulatorConfiguration(fixtureData: Data(fixture.utf8))
        try await withSimulator(configuration) { harness in
            let alice = try await harness.client.exchange(
                appID: "wxfixture0000001", secret: "fixturesecret",
                code: try harness.simulator.mintCode(appID: "wxfixture0000001", user: "alice"))
            let bob = try await harness.client.exchange(
                appID: "wxfixture0000001", secret: "fixturesecret",
                code: try harness.simulator.mintCode(appID: "wxfixture0000001", user: "bob"))
            #expect(alice == WeChatIdentity(
                openid: "oFixtureAlice000000000000001", sessionKey: "AAECAwQFBgcICQoLDA0ODw==", unionid: "uFixtureAlice"))
            #expect(bob == WeChatIdentity(
                openid: "oFixtureBob00000000000000002", sessionKey: "EBESExQVFhcYGRobHB0eHw==", unionid: nil))
        }
    }

    @Test func aCodeWorksOnceThen40163() async throws {
        try await withSimulator { harness in
            let code = try harness.simulator.mintCode(appID: TestApps.dev, user: "alice")
            _ = try await harness.client.exchange(appID: TestApps.dev, secret: TestApps.devSecret, code: code)
            let error = await harness.exchangeFailure(code: code)
            guard case .rejected(40163, let errmsg) = error else {
                Issue.record("expected rejected(40163), got \(String(describing: error))")
                return
            }
            #expect(errmsg.hasPrefix("code been used, rid: "))
        }
    }

    @Test func unknownCodeIs40029() async throws {
        try await withSimulator { harness in
            let error = await harness.exchangeFailure(code: "0a3Xd8000Ni3mP1e7V200yDm9F3Xd80c")
            guard case .rejected(40029, let errmsg) = error else {
                Issue.record("expected rejected(40029), got \(String(describing: error))")
                return
            }
            #expect(errmsg.hasPrefix("invalid code, rid: "))
        }
    }

    @Test func expiredCodeIs40029ButAFreshOneWorks() async throws {
        try await withSimulator(TestApps.configuration(codeLifetime: .milliseconds(200))) { harness in
            let stale = try harness.simulator.mintCode(appID: TestApps.dev, user: "alice")
            try await Task.sleep(for: .milliseconds(400))
            let error = await harness.exchangeFailure(code: stale)
            guard case .rejected(40029, _) = error else {
                Issue.record("expected rejected(40029), got \(String(describing: error))")
                return
            }
            let fresh = try harness.simulator.mintCode(appID: TestApps.dev, user: "alice")
            _ = try await harness.client.exchange(appID: TestApps.dev, secret: TestApps.devSecret, code: fresh)
        }
    }

    @Test func wrongSecretIs40125AndLeavesTheCodeUsable() async throws {
        try await withSimulator { harness in
            let code = try harness.simulator.mintCode(appID: TestApps.dev, user: "alice")
            let error = await harness.exchangeFailure(secret: "not-the-secret", code: code)
            guard case .rejected(40125, let errmsg) = error else {
                Issue.record("expected rejected(40125), got \(String(describing: error))")
                return
            }
            #expect(errmsg.hasPrefix("invalid appsecret"))
            _ = try await harness.client.exchange(appID: TestApps.dev, secret: TestApps.devSecret, code: code)
        }
    }

    @Test func unknownAppIs40013AndCodesBelongToOneApp() async throws {
        try await withSimulator { harness in
            let code = try harness.simulator.mintCode(appID: TestApps.dev, user: "alice")
            let unknown = await harness.exchangeFailure(appID: "wxunknown0000000", secret: "x", code: code)
            guard case .rejected(40013, _) = unknown else {
                Issue.record("expected rejected(40013), got \(String(describing: unknown))")
                return
            }
            let otherApp = await harness.exchangeFailure(appID: TestApps.other, secret: TestApps.otherSecret, code: code)
            guard case .rejected(40029, _) = otherApp else {
                Issue.record("expected rejected(40029), got \(String(describing: otherApp))")
                return
            }
            _ = try await harness.client.exchange(appID: TestApps.dev, secret: TestApps.devSecret, code: code)
        }
    }

    @Test func codesNeedingURLEncodingRoundTrip() async throws {
        try await withSimulator { harness in
            let awkward = "a+b/c=d&e=f é%20?#x"
            #expect(try harness.simulator.mintCode(appID: TestApps.dev, user: "alice", code: awkward) == awkward)
            let identity = try await harness.client.exchange(appID: TestApps.dev, secret: TestApps.devSecret, code: awkward)
            #expect(identity.openid == (try harness.simulator.identity(appID: TestApps.dev, user: "alice")).openid)

            // The simulator decodes like a form server ('+' is a space): an unencoded '+' would not find the code.
            let plus = try harness.simulator.mintCode(appID: TestApps.dev, user: "alice", code: "x+y")
            let raw = try await harness.send(
                .GET, "/sns/jscode2session?appid=\(TestApps.dev)&secret=\(TestApps.devSecret)&js_code=x+y&grant_type=authorization_code")
            #expect(raw.body.contains("\"errcode\":40029"))
            _ = try await harness.client.exchange(appID: TestApps.dev, secret: TestApps.devSecret, code: plus)
        }
    }

    @Test func logsNeverContainSecretCodeOrSessionKey() async throws {
        try await withSimulator { harness in
            let secret = TestApps.devSecret
            let code = try harness.simulator.mintCode(appID: TestApps.dev, user: "alice")
            let identity = try await harness.client.exchange(appID: TestApps.dev, secret: secret, code: code)
            _ = await harness.exchangeFailure(code: code)
            let lines = harness.logs.all
            #expect(lines.count == 2)
            for line in lines {
                #expect(!line.contains(secret))
                #expect(!line.contains(code))
                #expect(!line.contains(identity.sessionKey))
                #expect(line.contains("wechat.appid=\(TestApps.dev)"))
                #expect(line.contains("wechat.latency_ms="))
            }
            #expect(lines.last?.contains("wechat.errcode=40163") == true)
            #expect(lines.last?.contains("wechat.rid=") == true)
        }
    }
}
