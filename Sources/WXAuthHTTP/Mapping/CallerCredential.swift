import Foundation

/// A caller's credential on the edge's protected routes: `Authorization: Basic base64(caller_id:secret)` with a
/// caller of the configuration file (`callers`). HTTPS or loopback only: the secret travels as is.
public struct CallerCredential: Sendable, Equatable {
    public var callerID: String
    public var secret: String

    public init(callerID: String, secret: String) {
        self.callerID = callerID
        self.secret = secret
    }

    /// nil when the header is absent, not Basic, not base64 or has no colon.
    public static func parse(authorization: String?) -> CallerCredential? {
        guard let authorization else { return nil }
        let trimmed = authorization.trimmingWhitespace()
        guard trimmed.utf8.count > 6, trimmed.prefix(6).lowercased() == "basic " else { return nil }
        guard let data = Data(base64Encoded: String(trimmed.dropFirst(6)).trimmingWhitespace()),
              let text = String(data: data, encoding: .utf8),
              let colon = text.firstIndex(of: ":")
        else { return nil }
        let id = String(text[..<colon])
        let secret = String(text[text.index(after: colon)...])
        guard !id.isEmpty, !secret.isEmpty else { return nil }
        return CallerCredential(callerID: id, secret: secret)
    }
}
