import WXAuthCrypto
import WXAuthSessions

/// The 48-byte header both files start with (docs/PERSISTENCE.md).
struct FileHeader: Sendable {
    enum Kind: Sendable {
        case snapshot, journal

        var magic: [UInt8] { Array((self == .snapshot ? "WXAUTHSN" : "WXAUTHJL").utf8) }
        var name: String { self == .snapshot ? "snapshot" : "journal" }
    }

    static let size = 48
    static let version: UInt16 = 1

    var kind: Kind
    /// The server key the file's encryption and MAC keys are derived from.
    var keyID: UInt8
    /// Snapshot: contains every change journaled in files of lower generation. Journal: its own generation.
    var generation: UInt64
    var createdAt: Int64
    /// 16 random bytes: makes the derived keys unique to this file.
    var salt: [UInt8]

    func encoded() -> [UInt8] {
        var writer = BinaryWriter(capacity: Self.size)
        writer.write(raw: kind.magic)
        writer.write(Self.version)
        writer.write(keyID)
        writer.write(UInt8(0))
        writer.write(UInt32(0))
        writer.write(generation)
        writer.write(createdAt)
        writer.write(raw: salt)
        return writer.bytes
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, kind: Kind) throws(Refusal) -> FileHeader {
        guard bytes.count >= size else { throw .truncatedHeader }
        guard Array(bytes[0..<8]) == kind.magic else { throw .notOurFile(kind.name) }
        var reader = BinaryReader(bytes, offset: 8)
        do {
            let version = try reader.read(UInt16.self)
            guard version == Self.version else { throw Refusal.unsupportedVersion(version) }
            let keyID = try reader.read(UInt8.self)
            guard try reader.read(UInt8.self) == 0, try reader.read(UInt32.self) == 0 else {
                throw Refusal.format("reserved header bytes are not zero")
            }
            let generation = try reader.read(UInt64.self)
            let createdAt = try reader.read(Int64.self)
            let salt = Array(try reader.readSlice(16))
            return FileHeader(kind: kind, keyID: keyID, generation: generation, createdAt: createdAt, salt: salt)
        } catch let error as Refusal {
            throw error
        } catch {
            throw .truncatedHeader
        }
    }
}

/// The keys of one file: derived from a server key and the file's salt, so every file has its own AES key and
/// counter nonces never repeat under one key.
///   enc = HMAC-SHA256(server key, "wxauth-persist-v1" || 0x01 || salt)   (AES-256-GCM for session_keys)
///   mac = HMAC-SHA256(server key, "wxauth-persist-v1" || 0x02 || salt)   (file and journal-record MACs)
final class FileKeys {
    let cipher: AES256GCM
    let mac: HMACKey
    let macSecret: [UInt8]

    private static let label = Array("wxauth-persist-v1".utf8)

    init(keyring: ServerKeyring, header: FileHeader) throws(Refusal) {
        guard let serverKey = keyring.key(id: header.keyID) else { throw .unknownKey(header.keyID) }
        do {
            var encryption = try serverKey.authenticationCode(for: Self.label + [1] + header.salt)
            macSecret = try serverKey.authenticationCode(for: Self.label + [2] + header.salt)
            cipher = try AES256GCM(key: encryption)
            mac = try HMACKey(key: macSecret)
            for index in encryption.indices { encryption[index] = 0 }
        } catch {
            throw .crypto(error.operation)
        }
    }
}

/// Encodes and decodes one `PersistedEntry` (docs/PERSISTENCE.md "Entries"). The session_key is sealed with
/// AES-256-GCM under the file's key, nonce `counter u64 || index u32`, AAD `token id || key id`.
enum EntryCodec {
    static let live: UInt8 = 1
    static let rotated: UInt8 = 2
    static let revoked: UInt8 = 3

    static func nonce(counter: UInt64, index: UInt32) -> [UInt8] {
        var writer = BinaryWriter(capacity: 12)
        writer.write(counter)
        writer.write(index)
        return writer.bytes
    }

    static func aad(id: TokenID, keyID: UInt8) -> [UInt8] {
        var writer = BinaryWriter(capacity: 17)
        writer.write(memoryOf: id)
        writer.write(keyID)
        return writer.bytes
    }

    /// Opens a sealed session_key; nonce and AAD are laid out on the stack.
    private static func open(
        _ sealed: UnsafeRawBufferPointer, id: TokenID, keyID: UInt8, counter: UInt64, index: UInt32, cipher: AES256GCM
    ) throws(CryptoError) -> [UInt8] {
        var nonce: (UInt64, UInt32) = (counter.bigEndian, index.bigEndian)
        var aad: (TokenID, UInt8) = (id, keyID)
        let outcome = withUnsafeBytes(of: &nonce) { nonceBytes in
            withUnsafeBytes(of: &aad) { aadBytes in
                Result { () throws(CryptoError) in
                    try cipher.open(
                        sealed, nonce: UnsafeRawBufferPointer(rebasing: nonceBytes[0..<12]),
                        aad: UnsafeRawBufferPointer(rebasing: aadBytes[0..<17])
                    )
                }
            }
        }
        return try outcome.get()
    }

    static func encode(
        _ entry: PersistedEntry, into writer: inout BinaryWriter, cipher: AES256GCM, counter: UInt64, index: UInt32
    ) throws(Refusal) {
        do {
            switch entry.state {
            case .live(let session):
                writer.write(live)
                writer.write(memoryOf: entry.id)
                writer.write(session.keyID)
                try writer.write(string: session.appID)
                try writer.write(string: session.openid)
                writer.write(UInt8(session.unionid == nil ? 0 : 1))
                if let unionid = session.unionid { try writer.write(string: unionid) }
                writer.write(session.createdAt)
                writer.write(session.lastSeenAt)
                writer.write(session.absoluteExpiresAt)
                writer.write(memoryOf: session.mac)
                let sealed = try cipher.seal(
                    session.sessionKey.bytes, nonce: nonce(counter: counter, index: index),
                    aad: aad(id: entry.id, keyID: session.keyID)
                )
                writer.write(raw: sealed)
            case .rotated(let successor, let graceUntil, let forgetAt):
                writer.write(rotated)
                writer.write(memoryOf: entry.id)
                writer.write(successor.keyID)
                writer.write(memoryOf: successor.id)
                writer.write(graceUntil)
                writer.write(forgetAt)
            case .revoked(let forgetAt):
                writer.write(revoked)
                writer.write(memoryOf: entry.id)
                writer.write(forgetAt)
            }
        } catch let error as FormatError {
            throw .format(error.description)
        } catch let error as CryptoError {
            throw .crypto(error.operation)
        } catch {
            throw .format("\(error)")
        }
    }

    /// Moves past the entry whose kind byte `kind` was already read, without decoding or decrypting it.
    static func skip(kind: UInt8, from reader: inout BinaryReader) throws(FormatError) {
        switch kind {
        case live:
            _ = try reader.readSlice(16 + 1)
            for _ in 0..<2 { _ = try reader.readSlice(Int(try reader.read(UInt16.self))) }
            let hasUnionid = try reader.read(UInt8.self)
            guard hasUnionid <= 1 else { throw FormatError("bad unionid flag") }
            if hasUnionid == 1 { _ = try reader.readSlice(Int(try reader.read(UInt16.self))) }
            _ = try reader.readSlice(3 * 8 + 16 + 16 + AES256GCM.tagSize)
        case rotated:
            _ = try reader.readSlice(16 + 1 + 16 + 2 * 8)
        case revoked:
            _ = try reader.readSlice(16 + 8)
        default:
            throw FormatError("unknown entry kind \(kind)")
        }
    }

    /// Decodes the entry whose kind byte `kind` was already read.
    static func decode(
        kind: UInt8, from reader: inout BinaryReader, cipher: AES256GCM, counter: UInt64, index: UInt32
    ) throws(Refusal) -> PersistedEntry {
        var cache = DecodingCache()
        return try decode(kind: kind, from: &reader, cipher: cipher, counter: counter, index: index, cache: &cache)
    }

    /// What consecutive entries share: the app id (almost every entry of a file has one of a few), so decoding
    /// does not make a String per entry for it.
    struct DecodingCache {
        var appID: String?
    }

    static func decode(
        kind: UInt8, from reader: inout BinaryReader, cipher: AES256GCM, counter: UInt64, index: UInt32,
        cache: inout DecodingCache
    ) throws(Refusal) -> PersistedEntry {
        do {
            let zeroID = TokenID(high: 0, low: 0)
            let id = try reader.read(memoryOf: TokenID.self, zero: zeroID)
            switch kind {
            case live:
                let keyID = try reader.read(UInt8.self)
                let appID = try reader.readString(reusing: &cache.appID)
                let openid = try reader.readString()
                let hasUnionid = try reader.read(UInt8.self)
                guard hasUnionid <= 1 else { throw FormatError("bad unionid flag") }
                let unionid = hasUnionid == 1 ? try reader.readString() : nil
                let createdAt = try reader.read(Int64.self)
                let lastSeenAt = try reader.read(Int64.self)
                let absoluteExpiresAt = try reader.read(Int64.self)
                let mac = try reader.read(memoryOf: Tag128.self, zero: Tag128(first: 0, second: 0))
                let sealed = try reader.readSlice(16 + AES256GCM.tagSize)
                var plain = try open(sealed, id: id, keyID: keyID, counter: counter, index: index, cipher: cipher)
                defer { for i in plain.indices { plain[i] = 0 } }
                guard let sessionKey = SessionKey(bytes: plain) else { throw FormatError("session key length") }
                return PersistedEntry(id: id, state: .live(PersistedSession(
                    keyID: keyID, appID: appID, openid: openid, unionid: unionid, sessionKey: sessionKey,
                    createdAt: createdAt, lastSeenAt: lastSeenAt, absoluteExpiresAt: absoluteExpiresAt, mac: mac
                )))
            case rotated:
                let keyID = try reader.read(UInt8.self)
                let successor = try reader.read(memoryOf: TokenID.self, zero: zeroID)
                let graceUntil = try reader.read(Int64.self)
                let forgetAt = try reader.read(Int64.self)
                return PersistedEntry(id: id, state: .rotated(
                    successor: SessionToken(keyID: keyID, id: successor), graceUntil: graceUntil, forgetAt: forgetAt
                ))
            case revoked:
                return PersistedEntry(id: id, state: .revoked(forgetAt: try reader.read(Int64.self)))
            default:
                throw FormatError("unknown entry kind \(kind)")
            }
        } catch let error as FormatError {
            throw .format(error.description)
        } catch let error as CryptoError {
            throw .crypto(error.operation)
        } catch {
            throw .format("\(error)")
        }
    }
}

/// Why a file was refused (it is then moved aside and the service starts without it).
public enum Refusal: Error, CustomStringConvertible, Sendable, Hashable {
    case truncatedHeader
    case notOurFile(String)
    case unsupportedVersion(UInt16)
    case unknownKey(UInt8)
    case macMismatch
    case generationMismatch
    case format(String)
    case crypto(String)

    public var description: String {
        switch self {
        case .truncatedHeader: "the header is truncated"
        case .notOurFile(let kind): "not a wxauth \(kind) file (bad magic)"
        case .unsupportedVersion(let version): "unsupported format version \(version)"
        case .unknownKey(let id): "written under server key id \(id), which is not configured"
        case .macMismatch: "MAC mismatch: the file was altered or corrupted"
        case .generationMismatch: "the header's generation does not match the file name"
        case .format(let detail): "malformed content: \(detail)"
        case .crypto(let operation): "OpenSSL \(operation) failed (altered or corrupted data)"
        }
    }
}
