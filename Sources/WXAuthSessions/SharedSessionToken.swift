import WXAuthCrypto

/// Names one session in the shared (Redis) store: the user's slot tag, so every session of a user, its index and
/// its revocation watermark hash to one cluster slot, and 96 random bits.
public struct SharedSessionID: Hashable, Sendable {
    public var slotTag: UInt32
    public var high: UInt64
    public var low: UInt32

    public init(slotTag: UInt32, high: UInt64, low: UInt32) {
        self.slotTag = slotTag
        self.high = high
        self.low = low
    }

    /// A new session id for the user whose slot tag is `slotTag`.
    public static func generate(slotTag: UInt32, random: any RandomSource) throws(CryptoError) -> SharedSessionID {
        let bytes = try random.bytes(count: 12)
        var reader = ByteReader(bytes)
        return SharedSessionID(slotTag: slotTag, high: reader.read(UInt64.self), low: reader.read(UInt32.self))
    }

    /// `wxs:{tttttttt}:<24 hex>`: the session's Redis key; the braces are the cluster hash tag.
    public var keyName: String {
        "wxs:{" + Hex.encode(bigEndian: slotTag) + "}:" + Hex.encode(bigEndian: high) + Hex.encode(bigEndian: low)
    }

    /// Parses a `keyName` (an invalidation push names keys this way); nil for any other key.
    public init?(keyName: some Collection<UInt8>) {
        let bytes = Array(keyName)
        guard bytes.count == 5 + 8 + 2 + 24, bytes.starts(with: Array("wxs:{".utf8)),
              bytes[13] == UInt8(ascii: "}"), bytes[14] == UInt8(ascii: ":"),
              let tag = parseHex(bytes[5..<13]), let high = parseHex(bytes[15..<31]), let low = parseHex(bytes[31..<39])
        else { return nil }
        self.init(slotTag: UInt32(tag), high: high, low: UInt32(low))
    }
}

/// A token of the shared store (version 2): `2 | key_id | 0 | slot_tag(4) | random(12) | generation(4) | tag(16)`,
/// 39 bytes, 52 characters of unpadded base64url; the tag is HMAC-SHA256 under the key, truncated to 16 bytes, over
/// `"wxauth-token-v2"` and the 23 bytes before it. REFRESH issues the next generation of the same session id, so a
/// session's tokens stay on its slot. Version-1 tokens (44 characters) belong to the in-memory store.
public struct SharedSessionToken: Hashable, Sendable {
    public static let encodedLength = 52
    static let rawLength = 39
    static let version: UInt8 = 2
    private static let domain: [UInt8] = Array("wxauth-token-v2".utf8)

    public var keyID: UInt8
    public var session: SharedSessionID
    public var generation: UInt32

    public init(keyID: UInt8, session: SharedSessionID, generation: UInt32) {
        self.keyID = keyID
        self.session = session
        self.generation = generation
    }

    /// The string handed to clients.
    public func encoded(keyring: ServerKeyring) throws(CryptoError) -> String {
        guard let key = keyring.key(id: keyID) else { throw CryptoError(operation: "token key lookup") }
        var raw = body
        let tag = try key.authenticationCode(for: Self.domain + raw)
        raw += tag[0..<16]
        return raw.withUnsafeBytes { Base64URL.encode($0) }
    }

    /// Parses and authenticates the token's ASCII bytes; nil for a wrong length, alphabet, version, flags, key id or
    /// tag. Decided before any store is asked. The near cache's hot path: decoded into a stack buffer laid out as
    /// the MAC input (`domain || raw`), no allocation.
    public static func parse(utf8: UnsafeRawBufferPointer, keyring: ServerKeyring) -> SharedSessionToken? {
        guard utf8.count == encodedLength else { return nil }
        return withUnsafeTemporaryAllocation(byteCount: domain.count + rawLength, alignment: 8) { buffer -> SharedSessionToken? in
            domain.withUnsafeBytes { buffer.copyMemory(from: $0) }
            let raw = UnsafeMutableRawBufferPointer(rebasing: buffer[domain.count...])
            guard Base64URL.decode(utf8.assumingMemoryBound(to: UInt8.self), into: raw),
                  raw[0] == version, raw[2] == 0, let key = keyring.key(id: raw[1]),
                  let expected = try? key.tag128(UnsafeRawBufferPointer(rebasing: buffer[0..<(domain.count + 23)]))
            else { return nil }
            var tag = expected
            let matches = withUnsafeBytes(of: &tag) { constantTimeEquals($0, UnsafeRawBufferPointer(rebasing: raw[23..<39])) }
            guard matches else { return nil }
            let session = SharedSessionID(
                slotTag: UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: 3, as: UInt32.self)),
                high: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 7, as: UInt64.self)),
                low: UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: 15, as: UInt32.self)))
            return SharedSessionToken(
                keyID: raw[1], session: session,
                generation: UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: 19, as: UInt32.self)))
        }
    }

    public static func parse(_ text: String, keyring: ServerKeyring) -> SharedSessionToken? {
        var text = text
        return text.withUTF8 { parse(utf8: UnsafeRawBufferPointer($0), keyring: keyring) }
    }

    private var body: [UInt8] {
        var writer = ByteWriter()
        writer.write(Self.version)
        writer.write(keyID)
        writer.write(UInt8(0))
        writer.write(session.slotTag)
        writer.write(session.high)
        writer.write(session.low)
        writer.write(generation)
        return writer.bytes
    }
}

/// One user of one app as the shared store names them: a one-way hash of the app id and openid, whose first four
/// bytes are the slot tag of all the user's sessions. Redis never sees the openid in a key name.
public struct SharedUserName: Hashable, Sendable {
    public let slotTag: UInt32
    private let digest: [UInt8]
    private static let hashKey = try! HMACKey(key: Array("wxauth-user-slot-v1".utf8))

    public init(appID: String, openid: String) {
        var input: [UInt8] = []
        for field in [appID, openid] {
            let bytes = Array(field.utf8)
            input += withUnsafeBytes(of: UInt32(bytes.count).bigEndian, Array.init) + bytes
        }
        digest = (try? Self.hashKey.authenticationCode(for: input)) ?? [UInt8](repeating: 0, count: 32)
        var reader = ByteReader(digest)
        slotTag = reader.read(UInt32.self)
    }

    private var suffix: String { "{" + Hex.encode(bigEndian: slotTag) + "}:" + Hex.encode(digest[0..<16]) }
    /// The sorted set of the user's session keys, scored by absolute expiry.
    public var indexKeyName: String { "wxu:" + suffix }
    /// When the user's sessions were last all revoked (REVOKE_USER), in milliseconds.
    public var watermarkKeyName: String { "wxw:" + suffix }
}

func parseHex(_ bytes: some Collection<UInt8>) -> UInt64? {
    guard !bytes.isEmpty, bytes.count <= 16 else { return nil }
    var value: UInt64 = 0
    for byte in bytes {
        let digit: UInt8
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
        default: return nil
        }
        value = value << 4 | UInt64(digit)
    }
    return value
}

/// Big-endian writer for the shared store's binary values.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func write(_ value: UInt8) { bytes.append(value) }
    mutating func write<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.bigEndian) { bytes += $0 } }
    mutating func write(_ raw: some Sequence<UInt8>) { bytes += raw }
    mutating func writeField(_ string: String) {
        let utf8 = Array(string.utf8)
        write(UInt16(clamping: utf8.count))
        bytes += utf8.prefix(Int(UInt16.max))
    }
}

/// Big-endian reader; reads past the end return zeros and set `overran` (callers check it once at the end).
struct ByteReader {
    private let bytes: [UInt8]
    private(set) var offset = 0
    private(set) var overran = false

    init(_ bytes: some Sequence<UInt8>) { self.bytes = Array(bytes) }

    var remaining: Int { bytes.count - offset }

    mutating func skip(_ count: Int) {
        guard count <= remaining else { overran = true; offset = bytes.count; return }
        offset += count
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type) -> T {
        let size = MemoryLayout<T>.size
        guard size <= remaining else { overran = true; offset = bytes.count; return 0 }
        var value: T = 0
        for byte in bytes[offset..<offset + size] { value = value << 8 | T(byte) }
        offset += size
        return value
    }

    mutating func readBytes(_ count: Int) -> [UInt8] {
        guard count <= remaining else { overran = true; offset = bytes.count; return [] }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    mutating func readField() -> String? {
        let count = Int(read(UInt16.self))
        let raw = readBytes(count)
        guard !overran else { return nil }
        return String(validating: raw, as: UTF8.self)
    }
}
