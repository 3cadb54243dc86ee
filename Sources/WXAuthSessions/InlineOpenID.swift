/// An openid kept inside the session record: up to `capacity` UTF-8 bytes in fixed storage, no heap. WeChat
/// openids are 28 ASCII characters, so they always fit; a longer one (QQ and other platforms allow up to 64)
/// is marked `isOverflow` and its bytes live in the shard's side table (`SessionStrings.longOpenid`).
struct InlineOpenID: Sendable {
    static let capacity = 28
    private static let overflowMarker: UInt8 = 0xFF

    /// 28 bytes as seven words (alignment 4 keeps the record packed).
    private var storage: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0, 0, 0, 0)
    private var length: UInt8 = 0

    /// The inline form of `openid`, or the overflow marker when it is longer than `capacity` bytes.
    init(_ openid: String) {
        var openid = openid
        self = openid.withUTF8 { InlineOpenID(utf8: UnsafeRawBufferPointer($0)) }
    }

    init(utf8: UnsafeRawBufferPointer) {
        guard utf8.count <= Self.capacity else {
            length = Self.overflowMarker
            return
        }
        length = UInt8(utf8.count)
        withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: utf8) }
    }

    /// True when the openid did not fit and is kept in the side table.
    var isOverflow: Bool { length == Self.overflowMarker }

    /// The inline UTF-8 bytes (empty for an overflow openid).
    func withUTF8<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let count = isOverflow ? 0 : Int(length)
        return try withUnsafeBytes(of: storage) { try body(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
    }

    /// The inline openid as a String (nil for an overflow openid).
    var inlineString: String? {
        guard !isOverflow else { return nil }
        return withUTF8 { String(decoding: $0, as: UTF8.self) }
    }

    /// Byte-wise comparison with `openid` (inline form only; an overflow openid compares through the side table).
    func equals(utf8 other: UnsafeRawBufferPointer) -> Bool {
        guard !isOverflow, other.count == Int(length) else { return false }
        return withUTF8 { mine in mine.elementsEqual(other) }
    }
}

extension InlineOpenID: Hashable {
    static func == (lhs: InlineOpenID, rhs: InlineOpenID) -> Bool {
        guard lhs.length == rhs.length else { return false }
        return lhs.withUTF8 { left in rhs.withUTF8 { right in left.elementsEqual(right) } }
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(length)
        withUTF8 { hasher.combine(bytes: $0) }
    }
}

/// The strings a session has that do not fit its fixed-size record, kept per shard only for the sessions that
/// have them: the unionid (most sessions have none) and an openid longer than `InlineOpenID.capacity`.
struct SessionStrings: Sendable, Hashable {
    var longOpenid: String?
    var unionid: String?

    static let none = SessionStrings(longOpenid: nil, unionid: nil)

    var isEmpty: Bool { longOpenid == nil && unionid == nil }
}
