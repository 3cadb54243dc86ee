/// An HTTP request as the edge's logic sees it: header names lowercased, the body's bytes, the peer's address.
/// No HTTP library types, so the mapping is tested without a server.
public struct EdgeRequest: Sendable {
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// The TCP peer (a proxy when there is one).
    public var peerAddress: String

    public init(headers: [(name: String, value: String)], body: [UInt8] = [], peerAddress: String) {
        self.headers = headers.map { (name: $0.name.lowercased(), value: $0.value) }
        self.body = body
        self.peerAddress = peerAddress
    }

    /// The first value of a header (`name` lowercased).
    public func header(_ name: String) -> String? {
        headers.first { $0.name == name }?.value
    }

    /// Every value of a header, in order.
    public func headerValues(_ name: String) -> [String] {
        headers.filter { $0.name == name }.map(\.value)
    }
}

/// An HTTP answer as a value: status code, headers, optional JSON body.
public struct EdgeReply: Sendable, Equatable {
    public var status: Int
    public var headers: [EdgeHeader]
    public var body: [UInt8]?

    public init(status: Int, headers: [EdgeHeader] = [], body: [UInt8]? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

public struct EdgeHeader: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// Header names the edge reads and writes, in one place.
public enum EdgeHeaderName {
    public static let app = "X-WXAuth-App"
    public static let openID = "X-WXAuth-OpenID"
    public static let unionID = "X-WXAuth-UnionID"
    public static let expires = "X-WXAuth-Expires"
    public static let reason = "X-WXAuth-Reason"
    /// On /v1/auth answers other than 200 and 401 (no body there): the wxauth status name.
    public static let status = "X-WXAuth-Status"
    public static let wwwAuthenticate = "WWW-Authenticate"
    public static let retryAfter = "Retry-After"
    public static let cacheControl = "Cache-Control"
    public static let contentType = "Content-Type"
}
