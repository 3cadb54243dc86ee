import Foundation
import Synchronization
import Testing
import WXAuthCrypto
@testable import WXAuthSessions

/// A small store on a manual clock. Defaults: one shard, 60 s idle, 10 min absolute, 30 s refresh grace.
struct Fixture {
    static let secret1 = [UInt8](repeating: 0x11, count: 32)
    static let secret2 = [UInt8](repeating: 0x22, count: 32)
    static let appA = "wxAAAAAAAAAAAAAAAA"
    static let appB = "wxBBBBBBBBBBBBBBBB"
    /// 16 bytes, base64 (as WeChat sends session_key).
    static let sessionKey = Data((0..<16).map { UInt8($0) }).base64EncodedString()
    static let idle: Int64 = 60_000
    static let absolute: Int64 = 600_000
    static let grace: Int64 = 30_000

    let clock: ManualWallClock
    let store: SessionStore

    init(
        shardCount: Int = 1, maxEntries: Int = 100_000, grace: Int64 = Fixture.grace, idle: Int64 = Fixture.idle,
        absolute: Int64 = Fixture.absolute, keyring: ServerKeyring? = nil, random: any RandomSource = OpenSSLRandom(),
        clock: ManualWallClock = ManualWallClock()
    ) throws {
        self.clock = clock
        let apps = AppRegistry([
            AppConfiguration(appID: Self.appA, secret: "secretA", idleTimeoutMilliseconds: idle,
                             absoluteLifetimeMilliseconds: absolute),
            AppConfiguration(appID: Self.appB, secret: "secretB", idleTimeoutMilliseconds: idle,
                             absoluteLifetimeMilliseconds: absolute),
        ])
        store = SessionStore(
            configuration: SessionStoreConfiguration(shardCount: shardCount, maxEntries: maxEntries,
                                                     refreshGraceMilliseconds: grace),
            keyring: try keyring ?? Self.keyring1(), apps: apps, clock: clock, random: random
        )
    }

    /// Key 1 only (primary 1).
    static func keyring1() throws -> ServerKeyring {
        try ServerKeyring(keys: [.init(id: 1, secret: secret1)], primary: 1)
    }

    @discardableResult
    func login(_ openid: String = "alice", app: String = Fixture.appA, unionid: String? = nil) throws -> SessionStore.Issued {
        try store.create(appID: app, openid: openid, unionid: unionid, sessionKeyBase64: Self.sessionKey)
    }

    /// Whether `token` currently validates (a validation slides its idle deadline).
    func validates(_ token: String) -> Bool {
        (try? store.validate(token)) != nil
    }
}

// MARK: - Test hooks (internal state through @testable import)

extension SessionStore {
    /// Alters the stored record of `token` in place (no re-sealing), as memory corruption or an attacker would.
    func tamperWithRecord(of token: String, _ change: (inout SessionRecord) -> Void) throws {
        let parsed = try #require(SessionToken.parse(token, keyring: keyring))
        let changed = map.withShard(for: parsed.id) { entries -> Bool in
            guard case .live(var record) = entries[parsed.id] else { return false }
            change(&record)
            entries[parsed.id] = .live(record)  // keeps the side-table strings
            return true
        }
        try #require(changed, "the token has a live record")
    }

    /// The stored record of `token`, if live.
    func record(of token: String) -> SessionRecord? {
        guard let parsed = SessionToken.parse(token, keyring: keyring) else { return nil }
        return map.withShard(for: parsed.id) { entries -> SessionRecord? in
            guard case .live(let record) = entries[parsed.id] else { return nil }
            return record
        }
    }

    /// Table capacity (slots) of shard `index`.
    func shardCapacity(_ index: Int = 0) -> Int {
        map.shards[index].entries.withLockedValue { $0.table.capacity }
    }

    /// The side-table strings of `token` (unionid, long openid).
    func strings(of token: String) -> SessionStrings? {
        guard let parsed = SessionToken.parse(token, keyring: keyring) else { return nil }
        return map.withShard(for: parsed.id) { $0.strings(of: parsed.id) }
    }

    /// Copies every entry of `other`'s map into this store's map (same shard count): stands in for a process that
    /// restarts with a new keyring and the same sessions.
    func adoptEntries(of other: SessionStore) {
        precondition(map.shards.count == other.map.shards.count)
        for (mine, theirs) in zip(map.shards, other.map.shards) {
            let copied = theirs.entries.withLockedValue { $0 }
            mine.entries.withLockedValue { entries in
                copied.table.forEach { id, entry in entries.store(entry, strings: copied.strings(of: id), for: id) }
            }
        }
    }
}

// MARK: - Token bytes

enum TokenBytes {
    /// Decodes a 44-character base64url token into its 33 bytes (Foundation, independent of the store's decoder).
    static func decode(_ token: String) -> [UInt8]? {
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64).map(Array.init)
    }

    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func isWellFormed(_ token: String) -> Bool {
        token.utf8.count == 44 && token.utf8.allSatisfy { alphabet.contains($0) }
    }
}

// MARK: - Random sources

/// OpenSSL's generator that can be switched to fail.
final class SwitchableRandom: RandomSource {
    private let failing = Atomic<Bool>(false)
    let fills = Atomic<Int>(0)

    func setFailing(_ value: Bool) { failing.store(value, ordering: .sequentiallyConsistent) }

    func fill(_ buffer: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        fills.add(1, ordering: .relaxed)
        if failing.load(ordering: .sequentiallyConsistent) { throw CryptoError(operation: "RAND_bytes (test)") }
        try OpenSSLRandom().fill(buffer)
    }
}

extension SessionError {
    var isCryptoFailure: Bool {
        if case .cryptoFailure = self { return true }
        return false
    }
}
