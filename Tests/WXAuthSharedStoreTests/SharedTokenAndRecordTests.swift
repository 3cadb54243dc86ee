import Foundation
import Testing
import WXAuthCrypto
@testable import WXAuthSessions

/// The v2 token and the sealed record, without Redis.
@Suite struct SharedTokenAndRecordTests {
    let keyring = try! ServerKeyring(keys: [.init(id: 3, secret: Array(repeating: 7, count: 32)), .init(id: 4, secret: Array(repeating: 9, count: 32))], primary: 3)
    let session = SharedSessionID(slotTag: 0xdead_beef, high: 0x0123_4567_89ab_cdef, low: 0x1122_3344)

    @Test func tokenRoundTripsAndEveryAlteredCharacterIsRefused() throws {
        let token = SharedSessionToken(keyID: 3, session: session, generation: 7)
        let text = try token.encoded(keyring: keyring)
        #expect(text.utf8.count == SharedSessionToken.encodedLength)
        #expect(SharedSessionToken.parse(text, keyring: keyring) == token)
        var refused = 0
        for index in text.indices {
            var altered = text
            let replacement: Character = text[index] == "A" ? "B" : "A"
            altered.replaceSubrange(index...index, with: String(replacement))
            if SharedSessionToken.parse(altered, keyring: keyring) == nil { refused += 1 }
        }
        #expect(refused == text.count)
        // A version-1 (in-memory) token's length is not a v2 token.
        #expect(SharedSessionToken.parse(String(text.prefix(44)), keyring: keyring) == nil)
        // Another keyring (another deployment) does not accept it.
        let other = try ServerKeyring(keys: [.init(id: 3, secret: Array(repeating: 8, count: 32))], primary: 3)
        #expect(SharedSessionToken.parse(text, keyring: other) == nil)
    }

    @Test func keyNameParsesBackAndOthersDoNot() {
        #expect(SharedSessionID(keyName: Array(session.keyName.utf8)) == session)
        #expect(session.keyName == "wxs:{deadbeef}:0123456789abcdef11223344")
        #expect(SharedSessionID(keyName: Array("wxu:{deadbeef}:0123456789abcdef11223344".utf8)) == nil)
        #expect(SharedSessionID(keyName: Array("wxs:{deadbeef}:0123456789abcdef1122334".utf8)) == nil)
    }

    @Test func usersOfOneAppShareNoSlotTagByConstructionButOneUserAlwaysHasTheSame() {
        let alice = SharedUserName(appID: "wxapp", openid: "alice")
        #expect(alice == SharedUserName(appID: "wxapp", openid: "alice"))
        #expect(alice.slotTag != SharedUserName(appID: "wxapp", openid: "bob").slotTag)
        #expect(alice.slotTag != SharedUserName(appID: "wxother", openid: "alice").slotTag)
        #expect(!alice.indexKeyName.contains("alice"))
        #expect(alice.indexKeyName.hasPrefix("wxu:{") && alice.watermarkKeyName.hasPrefix("wxw:{"))
    }

    func record() throws -> SharedSessionRecord {
        try SharedSessionRecord(
            session: session, appID: "wxapp", openid: "alice", unionid: "u-1",
            sessionKey: SessionKey(bytes: Array(0..<16))!, createdAt: 1_000, absoluteExpiresAt: 100_000,
            keyring: keyring, random: OpenSSLRandom())
    }

    @Test func recordRoundTripsAndKeepsItsSessionKeyEncrypted() throws {
        let record = try record()
        let value = try record.encoded(session: session, idleTimeoutMilliseconds: 5_000, keyring: keyring)
        #expect(SharedSessionValue.decode(value, session: session, keyring: keyring) == .live(record))
        #expect(try record.sessionKey(session: session, keyring: keyring) == SessionKey(bytes: Array(0..<16))!)
        // The key's bytes do not appear in the value.
        #expect(!value.windows(ofCount: 16).contains { Array($0) == Array(0..<16) })
        // The ASCII prefix carries both deadlines for the scripts.
        #expect(String(decoding: value[0..<27], as: UTF8.self) == "L" + "0000000100000" + "0000000006000")
    }

    @Test func everyAlteredByteOfAValueIsRejected() throws {
        let value = try record().encoded(session: session, idleTimeoutMilliseconds: 5_000, keyring: keyring)
        for index in value.indices {
            var altered = value
            altered[index] ^= 0x01
            let decoded = SharedSessionValue.decode(altered, session: session, keyring: keyring)
            // Flipping the state byte "L" to "M" is unknown; nothing decodes as a live record.
            if case .live = decoded { Issue.record("byte \(index) altered and still verified") }
        }
        // Moved to another session's key: rejected.
        let elsewhere = SharedSessionID(slotTag: session.slotTag, high: session.high, low: session.low ^ 1)
        #expect(SharedSessionValue.decode(value, session: elsewhere, keyring: keyring) == nil)
    }

    @Test func revokedValueDecodes() {
        let value = SharedSessionValue.revokedValue(absoluteExpiresAt: 123_456)
        #expect(SharedSessionValue.decode(value, session: session, keyring: keyring) == .revoked(absoluteExpiresAt: 123_456))
    }
}

extension Array {
    func windows(ofCount count: Int) -> [ArraySlice<Element>] {
        guard self.count >= count else { return [] }
        return (0...(self.count - count)).map { self[$0..<($0 + count)] }
    }
}
