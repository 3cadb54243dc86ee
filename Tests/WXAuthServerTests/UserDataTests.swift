import Foundation
import Testing
import WXAuthClient
import WXAuthCrypto
import WXAuthProtocol
import WXAuthServer

/// DECRYPT, VERIFY_SIGNATURE, PHONE_NUMBER, CHECK_SESSION_KEY and RESET_SESSION_KEY over a real socket, against
/// the simulator (which encrypts with each user's current session_key, issues phone codes and access tokens).
@Suite("User data over a real socket", .serialized, .timeLimit(.minutes(2)))
struct UserDataTests {
    /// The user's current session_key as raw bytes (what the simulator, like WeChat, encrypts with).
    static func currentKey(_ server: TestServer, user: String = "alice") throws -> [UInt8] {
        let identity = try server.simulator.identity(appID: TestServer.appID, user: user)
        return Array(try #require(Data(base64Encoded: identity.sessionKey)))
    }

    static func randomIV() -> [UInt8] { (0..<16).map { _ in UInt8.random(in: 0...255) } }

    static func payload(
        key: [UInt8], iv: [UInt8] = randomIV(), appID: String = TestServer.appID,
        timestamp: Int64 = Int64(Date().timeIntervalSince1970), extra: String = #""nickName":"Alice+用户""#
    ) throws -> (json: String, data: String, iv: String) {
        let json = #"{\#(extra),"watermark":{"appid":"\#(appID)","timestamp":\#(timestamp)}}"#
        return (json, try WeChatUserData.encrypt(Array(json.utf8), sessionKey: key, iv: iv), Data(iv).base64EncodedString())
    }

    static func failure(_ body: () async throws -> Void) async -> ServerError? {
        do {
            try await body()
            Issue.record("expected a ServerError")
            return nil
        } catch let error as ServerError {
            return error
        } catch {
            Issue.record("unexpected \(error)")
            return nil
        }
    }

    @Test func decryptRoundTripsWithAKnownKey() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            let login = try await server.login(client)
            let key = try Self.currentKey(server)
            let sealed = try Self.payload(key: key)
            #expect(try await client.decrypt(token: login.token, encryptedData: sealed.data, iv: sealed.iv) == sealed.json)
            // A `+` that became a space on the way (URL decoding) is tolerated.
            let spaced = sealed.data.replacingOccurrences(of: "+", with: " ")
            #expect(try await client.decrypt(token: login.token, encryptedData: spaced,
                                             iv: sealed.iv.replacingOccurrences(of: "+", with: " ")) == sealed.json)
            // What the simulator hands the mini program decrypts too.
            let fromWeChat = try server.simulator.encryptUserData(appID: TestServer.appID, user: "alice", data: ["city": "Guangzhou"])
            let json = try await client.decrypt(token: login.token, encryptedData: fromWeChat.encryptedData, iv: fromWeChat.iv)
            #expect(json.contains("\"city\":\"Guangzhou\"") && json.contains(TestServer.appID))
            try await client.close()
        }
    }

    @Test func tamperedDataWrongIVAndBadInputAreTypedErrors() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            let login = try await server.login(client)
            let key = try Self.currentKey(server)
            let sealed = try Self.payload(key: key)
            var bytes = Array(try #require(Data(base64Encoded: sealed.data)))
            bytes[3] ^= 0x01
            let tampered = Data(bytes).base64EncodedString()
            var error = await Self.failure { _ = try await client.decrypt(token: login.token, encryptedData: tampered, iv: sealed.iv) }
            #expect(error?.status == .decryptFailed && error?.reason == .badPaddingOrKey)
            #expect(error?.message.contains("log in again") == true)

            let wrongIV = Data(Self.randomIV()).base64EncodedString()
            error = await Self.failure { _ = try await client.decrypt(token: login.token, encryptedData: sealed.data, iv: wrongIV) }
            #expect(error?.reason == .badPaddingOrKey)
            error = await Self.failure { _ = try await client.decrypt(token: login.token, encryptedData: sealed.data, iv: "AAAAAAAA") }
            #expect(error?.reason == .badIVLength)
            error = await Self.failure { _ = try await client.decrypt(token: login.token, encryptedData: "%%%not base64", iv: sealed.iv) }
            #expect(error?.reason == .badBase64)
            error = await Self.failure { _ = try await client.decrypt(token: String(repeating: "Q", count: 44), encryptedData: sealed.data, iv: sealed.iv) }
            #expect(error?.status == .invalidToken)
            #expect(error?.isRetryable == false)
            try await client.close()
        }
    }

    @Test func anotherAppsWatermarkAndAStaleWatermarkAreRefused() async throws {
        try await TestServer.with(configure: { $0.userData.maxWatermarkAgeMilliseconds = 60_000 }) { server in
            let client = try await server.client()
            let login = try await server.login(client)
            let key = try Self.currentKey(server)
            let foreign = try Self.payload(key: key, appID: "wxanotherapp0001")
            var error = await Self.failure { _ = try await client.decrypt(token: login.token, encryptedData: foreign.data, iv: foreign.iv) }
            #expect(error?.status == .decryptFailed && error?.reason == .appIDMismatch)

            let old = try Self.payload(key: key, timestamp: Int64(Date().timeIntervalSince1970) - 3600)
            error = await Self.failure { _ = try await client.decrypt(token: login.token, encryptedData: old.data, iv: old.iv) }
            #expect(error?.reason == .staleWatermark)

            let fresh = try Self.payload(key: key)
            #expect(try await client.decrypt(token: login.token, encryptedData: fresh.data, iv: fresh.iv) == fresh.json)
            // The limit follows the server's clock.
            server.clock.advance(seconds: 120)
            error = await Self.failure { _ = try await client.decrypt(token: login.token, encryptedData: fresh.data, iv: fresh.iv) }
            #expect(error?.reason == .staleWatermark)
            try await client.close()
        }
    }

    @Test func aNewerLoginRotatesTheKeySoTheOlderSessionIsToldToLogInAgain() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            let first = try await server.login(client)
            let second = try await server.login(client)
            #expect(first.session.openid == second.session.openid)
            let data = try server.simulator.encryptUserData(appID: TestServer.appID, user: "alice", data: ["nickName": "Alice"])
            #expect(try await client.decrypt(token: second.token, encryptedData: data.encryptedData, iv: data.iv).contains("Alice"))
            let error = await Self.failure { _ = try await client.decrypt(token: first.token, encryptedData: data.encryptedData, iv: data.iv) }
            #expect(error?.status == .decryptFailed && error?.reason == .badPaddingOrKey)
            #expect(error?.message.contains("log in again") == true)

            // WeChat agrees: the first session's key is stale, the second's current.
            #expect(try await client.checkSessionKey(token: first.token) == false)
            #expect(try await client.checkSessionKey(token: second.token) == true)
            try await client.close()
        }
    }

    @Test func resetStoresTheNewKeyInTheSession() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            let older = try await server.login(client)
            let login = try await server.login(client)
            let before = try Self.currentKey(server)
            try await client.resetSessionKey(token: login.token)
            let after = try Self.currentKey(server)
            #expect(before != after)
            #expect(try await client.checkSessionKey(token: login.token) == true)
            let data = try server.simulator.encryptUserData(appID: TestServer.appID, user: "alice", data: ["gender": 1])
            #expect(try await client.decrypt(token: login.token, encryptedData: data.encryptedData, iv: data.iv).contains("gender"))
            // A session holding an older key cannot reset: WeChat wants the current key's signature.
            let error = await Self.failure { try await client.resetSessionKey(token: older.token) }
            #expect(error?.status == .wechatRejected && error?.errcode == 87009)
            // The session itself is unchanged for everything else.
            #expect(try await client.validate(token: login.token).openid == login.session.openid)
            try await client.close()
        }
    }

    @Test func signatureAcceptsTheRightOneAndRejectsEverySingleCharacterChange() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            let login = try await server.login(client)
            let signed = try server.simulator.encryptUserData(
                appID: TestServer.appID, user: "alice", data: ["nickName": "Band", "gender": 1, "city": "Guangzhou"])
            try await client.verifySignature(token: login.token, rawData: signed.rawData, signature: signed.signature)
            let signature = Array(signed.signature)
            #expect(signature.count == 40)
            for index in signature.indices {
                for replacement in [signature[index] == "0" ? "1" : "0", "F"] {
                    var changed = signature
                    changed[index] = Character(replacement)
                    let error = await Self.failure {
                        try await client.verifySignature(token: login.token, rawData: signed.rawData, signature: String(changed))
                    }
                    #expect(error?.status == .signatureMismatch, "position \(index) -> \(replacement)")
                }
            }
            let raw = Array(signed.rawData)
            for index in raw.indices {
                var changed = raw
                changed[index] = raw[index] == "x" ? "y" : "x"
                let error = await Self.failure {
                    try await client.verifySignature(token: login.token, rawData: String(changed), signature: signed.signature)
                }
                #expect(error?.status == .signatureMismatch, "rawData position \(index)")
            }
            for shorter in [String(signed.signature.dropLast()), signed.signature + "0"] {
                let error = await Self.failure { try await client.verifySignature(token: login.token, rawData: signed.rawData, signature: shorter) }
                #expect(error?.status == .signatureMismatch)
            }
            try await client.close()
        }
    }

    @Test func phoneNumberAndItsCodeIsSingleUse() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            let login = try await server.login(client)
            let code = try server.simulator.mintPhoneCode(appID: TestServer.appID, user: "alice", phone: "+86 13800138000")
            let phone = try await client.phoneNumber(token: login.token, code: code)
            #expect(phone == PhoneNumber(phoneNumber: "13800138000", purePhoneNumber: "13800138000", countryCode: "86"))
            let reused = await Self.failure { _ = try await client.phoneNumber(token: login.token, code: code) }
            #expect(reused?.status == .wechatRejected && reused?.errcode == 40163)
            let bogus = await Self.failure { _ = try await client.phoneNumber(token: login.token, code: "nope") }
            #expect(bogus?.status == .wechatRejected && bogus?.errcode == 40029)
            let abroad = try server.simulator.mintPhoneCode(appID: TestServer.appID, user: "alice", phone: "+1 4155550100")
            #expect(try await client.phoneNumber(token: login.token, code: abroad).phoneNumber == "+1 4155550100")
            #expect(server.simulator.stats.stableTokenCalls == 1)
            try await client.close()
        }
    }

    @Test func hundredConcurrentPhoneNumbersWithAnExpiredAccessTokenFetchOneToken() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            let login = try await server.login(client)
            // First use: 20 at once with no token yet cause one fetch.
            let firstCodes = try (0..<20).map { i in
                try server.simulator.mintPhoneCode(appID: TestServer.appID, user: "alice", phone: "+86 1380013\(String(format: "%04d", i))")
            }
            try await Self.phoneNumbers(client, token: login.token, codes: firstCodes)
            #expect(server.simulator.stats.stableTokenCalls == 1)

            // WeChat expires the token: every call gets 40001 once, exactly one new token is fetched, all succeed.
            server.simulator.expireAccessTokens()
            let codes = try (0..<100).map { i in
                try server.simulator.mintPhoneCode(appID: TestServer.appID, user: "alice", phone: "+86 1390013\(String(format: "%04d", i))")
            }
            try await Self.phoneNumbers(client, token: login.token, codes: codes)
            #expect(server.simulator.stats.stableTokenCalls == 2)
            // 20 + 100, plus one retry for each call that went out with the stale token (most of them).
            #expect((121...220).contains(server.simulator.stats.phoneNumberCalls))
            try await client.close()
        }
    }

    static func phoneNumbers(_ client: WXAuthClient, token: String, codes: [String]) async throws {
        try await withThrowingTaskGroup(of: (Int, PhoneNumber).self) { group in
            for (index, code) in codes.enumerated() {
                group.addTask { (index, try await client.phoneNumber(token: token, code: code)) }
            }
            var seen = 0
            for try await (index, phone) in group {
                #expect(phone.purePhoneNumber.hasSuffix(String(format: "%04d", index)))
                seen += 1
            }
            #expect(seen == codes.count)
        }
    }

    @Test func theSessionKeyNeverAppearsInAnswersOrLogs() async throws {
        let lines = try await TestServer.with { server in
            let raw = try await server.raw()
            let client = try await server.client()
            let login = try await server.login(client)
            try await client.resetSessionKey(token: login.token)
            let key = try Self.currentKey(server)
            let sealed = try Self.payload(key: key)
            let signed = try server.simulator.encryptUserData(appID: TestServer.appID, user: "alice", data: ["a": 1])
            let requests: [Request] = [
                .decrypt(token: login.token, encryptedData: sealed.data, iv: sealed.iv),
                .decrypt(token: login.token, encryptedData: sealed.data, iv: Data(Self.randomIV()).base64EncodedString()),
                .verifySignature(token: login.token, rawData: signed.rawData, signature: signed.signature),
                .verifySignature(token: login.token, rawData: "x", signature: signed.signature),
                .checkSessionKey(token: login.token),
            ]
            let keyText = Array(Data(key).base64EncodedString().utf8)
            for (index, request) in requests.enumerated() {
                try await raw.send(request, requestID: UInt32(index + 1))
                let frame = try await raw.nextFrame()
                let bytes = Array(frame.body.readableBytesView)
                #expect(!bytes.contains(subsequence: keyText))
                #expect(!bytes.contains(subsequence: key))
            }
            await raw.close()
            try await client.close()
            return (server.logs.all, Data(key).base64EncodedString())
        }
        #expect(!lines.0.isEmpty)
        #expect(lines.0.allSatisfy { !$0.contains(lines.1) })
    }

    @Test func permissionsCoverTheNewOperations() async throws {
        #expect(Permissions(name: "DECRYPT") == .decrypt)
        #expect(Permissions(name: "phone_number") == .phoneNumber)
        #expect(Permissions(name: "ALL")?.contains([.verifySignature, .checkSessionKey, .resetSessionKey]) == true)
        try await TestServer.with(configure: {
            $0.callers = [CallerConfiguration(id: "gw", secret: "gateway-secret-0123456789", permissions: [.login, .validate])]
        }) { server in
            let client = try await server.client(callerID: "gw", secret: "gateway-secret-0123456789")
            let login = try await server.login(client)
            let error = await Self.failure { _ = try await client.decrypt(token: login.token, encryptedData: "AAAA", iv: "AAAA") }
            #expect(error?.status == .notAuthorized)
            try await client.close()
        }
    }
}
