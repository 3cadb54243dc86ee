import Testing
import WXAuthCrypto
@testable import WXAuthSessions

@Suite("Failing randomness and bad input issue nothing")
struct FailClosedTests {
    @Test("a failing RandomSource: create throws .cryptoFailure and the entry count is unchanged")
    func createFailsClosed() throws {
        let random = SwitchableRandom()
        let fixture = try Fixture(random: random)
        let existing = try fixture.login("bob").token
        random.setFailing(true)
        for _ in 0..<10 {
            let error = try #require(throws: SessionError.self) { try fixture.login() }
            #expect(error.isCryptoFailure)
        }
        #expect(random.fills.load(ordering: .relaxed) >= 11, "the store did ask the source")
        #expect(fixture.store.entryCount == 1)
        #expect(fixture.store.map.count == 1, "nothing was stored")
        #expect(fixture.validates(existing))

        random.setFailing(false)
        #expect(TokenBytes.isWellFormed(try fixture.login().token))
        #expect(fixture.store.entryCount == 2)
    }

    @Test("a failing RandomSource: refresh throws .cryptoFailure, the old token keeps working, counts unchanged")
    func refreshFailsClosed() throws {
        let random = SwitchableRandom()
        let fixture = try Fixture(random: random)
        let token = try fixture.login().token
        random.setFailing(true)
        let error = try #require(throws: SessionError.self) { try fixture.store.refresh(token) }
        #expect(error.isCryptoFailure)
        #expect(fixture.store.entryCount == 1)
        #expect(fixture.store.map.count == 1)
        #expect(fixture.validates(token))

        random.setFailing(false)
        let next = try fixture.store.refresh(token)
        #expect(fixture.validates(next.token))
        #expect(fixture.store.entryCount == 2)
        #expect(fixture.store.map.count == 2)
    }

    @Test("an ephemeral keyring from a failing source is refused")
    func ephemeralKeyring() {
        let random = SwitchableRandom()
        random.setFailing(true)
        #expect(throws: KeyringError.self) { try ServerKeyring.ephemeral(random: random) }
    }

    @Test("keyring rules: keys of at least 32 bytes, distinct ids, a configured primary")
    func keyringRules() {
        #expect(throws: KeyringError.keyTooShort(id: 1)) {
            try ServerKeyring(keys: [.init(id: 1, secret: [UInt8](repeating: 1, count: 31))], primary: 1)
        }
        #expect(throws: KeyringError.duplicateKeyID(1)) {
            try ServerKeyring(keys: [.init(id: 1, secret: Fixture.secret1), .init(id: 1, secret: Fixture.secret2)], primary: 1)
        }
        #expect(throws: KeyringError.unknownPrimary(2)) {
            try ServerKeyring(keys: [.init(id: 1, secret: Fixture.secret1)], primary: 2)
        }
    }

    @Test("unknown app and malformed session_key issue nothing")
    func badCreateInput() throws {
        let fixture = try Fixture()
        #expect(throws: SessionError.unknownApp) {
            try fixture.store.create(appID: "wxnope", openid: "a", unionid: nil, sessionKeyBase64: Fixture.sessionKey)
        }
        for key in ["", "not base64!", "AAECAwQFBgcICQoLDA0O", "AAECAwQFBgcICQoLDA0ODxA="] {  // bad, 15 and 17 bytes
            #expect(throws: SessionError.malformedSessionKey, "\(key)") {
                try fixture.store.create(appID: Fixture.appA, openid: "a", unionid: nil, sessionKeyBase64: key)
            }
        }
        #expect(fixture.store.entryCount == 0)
        #expect(fixture.store.map.count == 0)
    }
}
