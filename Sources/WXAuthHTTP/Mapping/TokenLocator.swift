/// Where a request carries its session token: `Authorization: Bearer`, then the configured header, then the
/// configured cookie.
public struct TokenLocator: Sendable {
    public var headerName: String?
    public var cookieName: String?

    public init(headerName: String? = nil, cookieName: String? = nil) {
        self.headerName = headerName?.lowercased()
        self.cookieName = cookieName
    }

    public func token(in request: EdgeRequest) -> String? {
        if let authorization = request.header("authorization"), let token = Self.bearer(authorization) {
            return token
        }
        if let headerName, let value = request.header(headerName)?.trimmingWhitespace(), !value.isEmpty {
            return value
        }
        if let cookieName {
            for header in request.headerValues("cookie") {
                if let value = Self.cookie(cookieName, in: header) { return value }
            }
        }
        return nil
    }

    /// The credentials of `Bearer <token>` (scheme case-insensitive); nil for another scheme or none.
    public static func bearer(_ authorization: String) -> String? {
        let trimmed = authorization.trimmingWhitespace()
        guard trimmed.utf8.count > 7, trimmed.prefix(7).lowercased() == "bearer " else { return nil }
        let token = String(trimmed.dropFirst(7)).trimmingWhitespace()
        return token.isEmpty ? nil : token
    }

    /// A cookie's value from one `Cookie` header (`a=1; b=2`); surrounding quotes are removed.
    public static func cookie(_ name: String, in header: String) -> String? {
        for pair in header.split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, String(parts[0]).trimmingWhitespace() == name else { continue }
            var value = String(parts[1]).trimmingWhitespace()
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            return value.isEmpty ? nil : value
        }
        return nil
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { $0 != " " && $0 != "\t" }),
              let end = scalars.lastIndex(where: { $0 != " " && $0 != "\t" })
        else { return "" }
        return String(scalars[start...end])
    }
}
