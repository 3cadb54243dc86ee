// For the server (issue 11 parts 1 and 3): the store now answers `SessionSnapshot`, not the wire's `SessionView`.
// WXAuthServer maps it with `SessionView(snapshot)` (WXAuthServer/SessionView+Snapshot.swift, a transition shim);
// an encoder can write a snapshot directly without allocating: `appIndex` (encode the app id once per app),
// `withOpenIDUTF8 { bytes in ... }`, `unionid` (empty when none), and the three times.

/// What a caller may know about a session at the moment it was read: a plain value the store answers with. It
/// has no session_key field, so none can leak. The openid stays in the record's fixed storage (no String is made
/// unless `openid` is read); the unionid and the app id are shared Strings (no copy of their bytes).
public struct SessionSnapshot: Sendable, Hashable {
    /// Index of the app in the store's `AppRegistry` (stable for the process).
    public var appIndex: UInt16
    public var appID: String
    var inlineOpenID: InlineOpenID
    var longOpenID: String?
    var storedUnionid: String?
    /// Milliseconds since the Unix epoch, UTC.
    public var createdAt: Int64
    /// The earlier of the idle and the absolute deadline.
    public var expiresAt: Int64
    /// Never extended by VALIDATE or REFRESH.
    public var absoluteExpiresAt: Int64

    init(record: SessionRecord, strings: SessionStrings, app: AppConfiguration) {
        appIndex = record.appIndex
        appID = app.appID
        inlineOpenID = record.openid
        longOpenID = record.openid.isOverflow ? strings.longOpenid : nil
        storedUnionid = record.unionid(strings: strings)
        createdAt = record.createdAt
        expiresAt = record.expiresAt(idleTimeoutMilliseconds: app.idleTimeoutMilliseconds)
        absoluteExpiresAt = record.absoluteExpiresAt
    }

    /// A snapshot of a session kept elsewhere (the shared store's records carry their strings).
    public init(
        appIndex: UInt16, appID: String, openid: String, unionid: String?, createdAt: Int64, expiresAt: Int64,
        absoluteExpiresAt: Int64
    ) {
        self.appIndex = appIndex
        self.appID = appID
        inlineOpenID = InlineOpenID(openid)
        longOpenID = inlineOpenID.isOverflow ? openid : nil
        storedUnionid = unionid.flatMap { $0.isEmpty ? nil : $0 }
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.absoluteExpiresAt = absoluteExpiresAt
    }

    /// The openid as a String (allocates for openids over 15 bytes; prefer `withOpenIDUTF8` on hot paths).
    public var openid: String { inlineOpenID.inlineString ?? longOpenID ?? "" }

    /// Empty when WeChat gave none.
    public var unionid: String { storedUnionid ?? "" }

    public var hasUnionid: Bool { storedUnionid != nil }

    /// The openid's UTF-8 bytes, without making a String.
    public func withOpenIDUTF8<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        guard inlineOpenID.isOverflow else { return try inlineOpenID.withUTF8(body) }
        var long = longOpenID ?? ""
        return try long.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
    }
}
