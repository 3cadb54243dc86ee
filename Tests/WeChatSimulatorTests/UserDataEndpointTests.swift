import Foundation
import Logging
import Synchronization
import Testing
import WXAuthCrypto
import WXAuthWeChat
import WeChatSimulator

/// The simulator's user-data endpoints over HTTP, through the real `WeChatUserDataClient` where one exists.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct UserDataEndpointTests {
    private func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    private func client(_ harness: SimulatorHarness) -> WeChatUserDataClient {
        WeChatUserDataClient(baseURL: harness.simulator.baseURL, httpClient: harness.http, logger: Logger(label: "test"))
    }

    @Test func stableTokenIsStableUntilExpiredAndChecksTheSecret() async throws {
        try await withSimulator { harness in
            let body = #"{"grant_type":"client_credential","appid":"\#(TestApps.dev)","secret":"\#(TestApps.devSecret)"}"#
            let first = try json(try await harness.send(.POST, "/cgi-bin/stable_token", body: body).body)
            let second = try json(try await harness.send(.POST, "/cgi-bin/stable_token", body: body).body)
            let token = try #require(first["access_token"] as? String)
            #expect(second["access_token"] as? String == token)
            #expect((first["expires_in"] as? Int ?? 0) > 7000)
            let wrong = try json(try await harness.send(.POST, "/cgi-bin/stable_token",
                body: #"{"grant_type":"client_credential","appid":"\#(TestApps.dev)","secret":"nope"}"#).body)
            #expect(wrong["errcode"] as? Int == 40125)

            // A stale token answers 40001 until a new one is fetched.
            harness.simulator.expireAccessTokens()
            let stale = try json(try await harness.send(.GET, "/wxa/checksession?access_token=\(token)&openid=x&signature=y&sig_method=hmac_sha256").body)
            #expect(stale["errcode"] as? Int == 40001)
            let third = try json(try await harness.send(.POST, "/cgi-bin/stable_token", body: body).body)
            #expect(third["access_token"] as? String != token)
            #expect(harness.simulator.stats.stableTokenCalls == 4)
        }
    }

    @Test func accessTokensExpireWith42001() async throws {
        var configuration = TestApps.configuration()
        configuration.accessTokenLifetime = .milliseconds(200)
        try await withSimulator(configuration) { harness in
            let body = #"{"grant_type":"client_credential","appid":"\#(TestApps.dev)","secret":"\#(TestApps.devSecret)"}"#
            let token = try #require(try json(try await harness.send(.POST, "/cgi-bin/stable_token", body: body).body)["access_token"] as? String)
            try await Task.sleep(for: .milliseconds(300))
            let answer = try json(try await harness.send(.POST, "/wxa/business/getuserphonenumber?access_token=\(token)", body: #"{"code":"x"}"#).body)
            #expect(answer["errcode"] as? Int == 42001)
        }
    }

    @Test func encryptEndpointProducesRealAESCBCWithTheCurrentKey() async throws {
        try await withSimulator { harness in
            let answer = try json(try await harness.send(.POST, "/sim/encrypt",
                body: #"{"appid":"\#(TestApps.dev)","user":"alice","data":{"nickName":"Alice","gender":2}}"#).body)
            let key = try harness.simulator.identity(appID: TestApps.dev, user: "alice").sessionKey
            let decrypted = try WeChatUserData.decrypt(
                encryptedData: try #require(answer["encryptedData"] as? String), iv: try #require(answer["iv"] as? String),
                sessionKeyBase64: key, expectedAppID: TestApps.dev, nowMilliseconds: Int64(Date().timeIntervalSince1970 * 1000))
            #expect(decrypted.json.contains("\"nickName\":\"Alice\""))
            let rawData = try #require(answer["rawData"] as? String)
            #expect(!rawData.contains("watermark"))
            #expect(try WeChatUserData.signatureMatches(
                rawData: rawData, signature: try #require(answer["signature"] as? String),
                sessionKey: Array(try #require(Data(base64Encoded: key)))))
            let unknown = try await harness.send(.POST, "/sim/encrypt", body: #"{"appid":"wxnope","user":"a","data":{}}"#)
            #expect(unknown.status == 404)
        }
    }

    @Test func phoneCodesAreSingleUseAndCheckAndResetFollowTheCurrentKey() async throws {
        try await withSimulator { harness in
            let client = client(harness)
            let minted = try json(try await harness.send(.POST, "/sim/phone-code",
                body: #"{"appid":"\#(TestApps.dev)","user":"alice","phone":"+86 13800138000"}"#).body)
            let code = try #require(minted["code"] as? String)
            let info = try await client.phoneNumber(appID: TestApps.dev, secret: TestApps.devSecret, code: code)
            #expect(info.purePhoneNumber == "13800138000" && info.countryCode == "86" && info.watermarkAppID == TestApps.dev)
            let reused = await #expect(throws: WeChatError.self) {
                _ = try await client.phoneNumber(appID: TestApps.dev, secret: TestApps.devSecret, code: code)
            }
            #expect(reused?.errcode == 40163)

            let user = try harness.simulator.identity(appID: TestApps.dev, user: "alice")
            let key = Array(try #require(Data(base64Encoded: user.sessionKey)))
            let signature = try WeChatUserData.sessionKeySignature(sessionKey: key)
            #expect(try await client.checkSessionKey(appID: TestApps.dev, secret: TestApps.devSecret, openid: user.openid, signature: signature))
            let fresh = try await client.resetSessionKey(appID: TestApps.dev, secret: TestApps.devSecret, openid: user.openid, signature: signature)
            #expect(fresh != user.sessionKey && Data(base64Encoded: fresh)?.count == 16)
            #expect(try harness.simulator.identity(appID: TestApps.dev, user: "alice").sessionKey == fresh)
            // The old key's signature is now 87009: check answers false, reset refuses.
            #expect(try await !client.checkSessionKey(appID: TestApps.dev, secret: TestApps.devSecret, openid: user.openid, signature: signature))
            await #expect(throws: WeChatError.self) {
                _ = try await client.resetSessionKey(appID: TestApps.dev, secret: TestApps.devSecret, openid: user.openid, signature: signature)
            }
            #expect(client.accessTokens.fetchCount == 1)
        }
    }
}

/// AccessTokenManager with a counting fetcher and a clock the test moves.
@Suite(.serialized) struct AccessTokenManagerTests {
    final class CountingFetcher: AccessTokenFetching {
        let calls = Atomic<Int>(0)
        func fetchAccessToken(appID: String, secret: String) async throws(WeChatError) -> AccessToken {
            let n = calls.add(1, ordering: .relaxed).newValue
            try? await Task.sleep(for: .milliseconds(20))
            return AccessToken(value: "token-\(n)", lifetime: .seconds(7200))
        }
    }

    final class TestClock: Sendable {
        let offset = Atomic<Int64>(0)
        let base = ContinuousClock.now
        var now: ContinuousClock.Instant { base + .seconds(offset.load(ordering: .relaxed)) }
    }

    @Test func expiredTokenWithAHundredWaitersCausesOneFetch() async throws {
        let fetcher = CountingFetcher()
        let clock = TestClock()
        let manager = AccessTokenManager(fetcher: fetcher, logger: Logger(label: "test"), now: { clock.now })
        #expect(try await manager.token(appID: "a", secret: "s") == "token-1")
        clock.offset.store(7200, ordering: .relaxed)  // past expiry
        let tokens = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<100 { group.addTask { try await manager.token(appID: "a", secret: "s") } }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(tokens == ["token-2"])
        #expect(fetcher.calls.load(ordering: .relaxed) == 2)
    }

    @Test func refreshesAheadOfExpiryWithoutMakingCallersWait() async throws {
        let fetcher = CountingFetcher()
        let clock = TestClock()
        let manager = AccessTokenManager(fetcher: fetcher, logger: Logger(label: "test"), now: { clock.now })
        _ = try await manager.token(appID: "a", secret: "s")
        clock.offset.store(7200 - 200, ordering: .relaxed)  // inside the refresh-ahead window, still valid
        #expect(try await manager.token(appID: "a", secret: "s") == "token-1")
        // The background refresh lands without any caller waiting for it (polled: no fixed sleep on a loaded machine).
        var current = try await manager.token(appID: "a", secret: "s")
        for _ in 0..<500 where current != "token-2" {
            try await Task.sleep(for: .milliseconds(10))
            current = try await manager.token(appID: "a", secret: "s")
        }
        #expect(current == "token-2")
        #expect(fetcher.calls.load(ordering: .relaxed) == 2)
    }

    @Test func invalidateOnlyDropsTheCurrentTokenAndRetriesOnce() async throws {
        let fetcher = CountingFetcher()
        let manager = AccessTokenManager(fetcher: fetcher, logger: Logger(label: "test"))
        let attempts = Atomic<Int>(0)
        let value = try await manager.withToken(appID: "a", secret: "s") { (token: String) throws(WeChatError) -> String in
            if attempts.add(1, ordering: .relaxed).newValue == 1 { throw .rejected(errcode: 40001, errmsg: "stale") }
            return token
        }
        #expect(value == "token-2" && attempts.load(ordering: .relaxed) == 2)
        manager.invalidate(appID: "a", token: "token-1")  // already replaced: no effect
        #expect(try await manager.token(appID: "a", secret: "s") == "token-2")
        await #expect(throws: WeChatError.self) {
            _ = try await manager.withToken(appID: "a", secret: "s") { (_: String) throws(WeChatError) -> Int in
                throw .rejected(errcode: 42001, errmsg: "expired")
            }
        }
        #expect(fetcher.calls.load(ordering: .relaxed) == 3)
    }
}
