import NIOCore
import Testing
import WXAuthCrypto
import WXAuthRedis
@testable import WXAuthSharedStore

/// The pure parts of coordination: key names, sealing, stored-record decoding, pauses. No Redis.
@Suite struct CoordinationCodecTests {
    static let secret = try! CoordinationSecret(Array(repeating: 7, count: 32))

    @Test func secretShorterThan32BytesIsRefused() {
        #expect(throws: CryptoError.self) { try CoordinationSecret(Array(repeating: 1, count: 31)) }
    }

    @Test func keyNamesAreTaggedKeyedHashesThatRevealNothing() throws {
        let naming = CoordinationKeyNaming(secret: Self.secret)
        let name = naming.name(prefix: SharedStoreKeys.codePrefix, namespace: "wx1234", item: "code-081abc")
        #expect(name.hasPrefix("wxc:{") && name.hasSuffix("}"))
        let tag = name.dropFirst("wxc:{".count).dropLast()
        #expect(tag.count == 32 && tag.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(!name.contains("code-081abc") && !name.contains("wx1234"))
        #expect(naming.name(prefix: "wxc:", namespace: "wx1234", item: "code-081abc") == name)
        #expect(naming.name(prefix: "wxc:", namespace: "wx1234", item: "code-081abd") != name)
        #expect(naming.name(prefix: "wxc:", namespace: "wx1235", item: "code-081abc") != name)
        // The namespace/item boundary is part of the hash.
        #expect(naming.name(prefix: "p:", namespace: "ab", item: "c") != naming.name(prefix: "p:", namespace: "a", item: "bc"))
        // Another secret, other names.
        let other = CoordinationKeyNaming(secret: try CoordinationSecret(Array(repeating: 8, count: 32)))
        #expect(other.name(prefix: "wxc:", namespace: "wx1234", item: "code-081abc") != name)
    }

    @Test func theTokenAndItsFetchLockShareOneSlot() throws {
        let client = RedisStandaloneClient(address: RedisAddress(host: "127.0.0.1", port: 1))  // never connects
        let tokens = try SharedAccessTokens(client: client, secret: Self.secret)
        let keys = tokens.keyNames(for: "wx1234")
        #expect(keys.token.hasPrefix(SharedStoreKeys.accessTokenPrefix + "{") && keys.lock == keys.token + ":fetching")
        #expect(HashSlot.of(keys.token) == HashSlot.of(keys.lock))
        #expect(tokens.keyNames(for: "wx1235").token != keys.token)
        // Items of one namespace spread over slots rather than piling onto one.
        let naming = CoordinationKeyNaming(secret: Self.secret)
        let slots = Set((0..<50).map { HashSlot.of(naming.name(prefix: SharedStoreKeys.codePrefix, namespace: "wx1234", item: "code-\($0)")) })
        #expect(slots.count > 40)
    }

    @Test func sealedValuesOpenOnlyUnchangedUnderTheirKeyName() throws {
        let sealer = try CoordinationSealer(secret: Self.secret)
        let plaintext = Array("a session answer".utf8)
        let sealed = try sealer.seal(plaintext, keyName: "wxc:{k1}")
        #expect(sealed.count == plaintext.count + CoordinationSealer.overhead)
        #expect(sealer.open(sealed, keyName: "wxc:{k1}") == plaintext)
        #expect(sealer.open(sealed, keyName: "wxc:{k2}") == nil)
        for index in sealed.indices {
            var tampered = sealed
            tampered[index] ^= 0x01
            #expect(sealer.open(tampered, keyName: "wxc:{k1}") == nil, "byte \(index) flipped still opened")
        }
        #expect(sealer.open(Array(sealed.dropLast()), keyName: "wxc:{k1}") == nil)
        #expect(sealer.open([], keyName: "wxc:{k1}") == nil)
        // A fresh nonce each time.
        #expect(try sealer.seal(plaintext, keyName: "wxc:{k1}") != sealed)
        let stranger = try CoordinationSealer(secret: try CoordinationSecret(Array(repeating: 9, count: 32)))
        #expect(stranger.open(sealed, keyName: "wxc:{k1}") == nil)
    }

    @Test func storedCodeRecordsDecode() {
        #expect(CodeOutcomeRecord(stored: nil) == .claimedByUs)
        #expect(CodeOutcomeRecord(stored: Array(CodeOutcomeRecord.claimValue(id: [1, 2, 0xFF]).utf8)) == .claimedByOther)
        #expect(CodeOutcomeRecord.claimValue(id: [1, 2, 0xFF]) == "P0102ff")
        #expect(CodeOutcomeRecord(stored: CodeOutcomeRecord.outcomeValue(sealed: [9, 8])) == .sealed([9, 8]))
        #expect(CodeOutcomeRecord(stored: Array("P".utf8)) == .unreadable)
        #expect(CodeOutcomeRecord(stored: Array("hello".utf8)) == .unreadable)
        #expect(CodeOutcomeRecord(stored: []) == .unreadable)
    }

    @Test func pollPausesGrowToTheCeiling() {
        var backoff = PollBackoff(first: .milliseconds(2), ceiling: .milliseconds(20))
        let pauses = (0..<10).map { _ in backoff.pause() }
        #expect(pauses.first == .milliseconds(2))
        #expect(zip(pauses, pauses.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(pauses[1] == .milliseconds(3))
        #expect(pauses.last == .milliseconds(20))
        #expect(pauses.allSatisfy { $0 <= .milliseconds(20) })
    }

    @Test func redisMillisecondsAreWholeAndPositive() {
        #expect(Duration.zero.redisMilliseconds == "1")
        #expect(Duration.milliseconds(1500).redisMilliseconds == "1500")
        #expect(Duration.seconds(300).redisMilliseconds == "300000")
    }

    @Test func tokenScriptRepliesDecode() throws {
        let sealed = RESP3Value.blobString(ByteBuffer(bytes: [1, 2, 3]))
        #expect(try ReadOrLockReply(reply: .integer(1)) == .lockTaken)
        #expect(try ReadOrLockReply(reply: .integer(0)) == .lockHeldElsewhere)
        #expect(try ReadOrLockReply(reply: .array([sealed, .integer(1500)]))
            == .token(StoredToken(sealed: [1, 2, 3], remaining: .milliseconds(1500))))
        #expect(throws: RedisClientError.self) { try ReadOrLockReply(reply: .null) }
        #expect(throws: RedisClientError.self) { try ReadOrLockReply(reply: .integer(2)) }
        #expect(throws: RedisClientError.self) { try ReadOrLockReply(reply: .array([sealed])) }
        #expect(try StoredToken(reply: .null) == nil)
        #expect(try StoredToken(reply: .boolean(false)) == nil)
        #expect(try StoredToken(reply: .array([sealed, .integer(-2)]))?.remaining == .milliseconds(-2))
        #expect(throws: RedisClientError.self) { try StoredToken(reply: .array([.integer(5), .integer(5)])) }
        #expect(throws: RedisClientError.self) { try StoredToken(reply: .simpleString(ByteBuffer(string: "OK"))) }
    }

    @Test func setGetRepliesDecode() throws {
        #expect(try RESP3Value.null.storedBytes() == nil)
        #expect(try RESP3Value.blobString(ByteBuffer(bytes: [0x50, 0x31])).storedBytes() == [0x50, 0x31])
        #expect(throws: RedisClientError.self) { try RESP3Value.integer(1).storedBytes() }
    }
}
