/// The client's address for the per-client login limit. `X-Forwarded-For` is believed only when the TCP peer is a
/// configured trusted proxy; then the rightmost entry that is not itself a trusted proxy is the client (entries to
/// its left were written by the client and prove nothing).
public struct ClientAddressResolver: Sendable {
    public let trustedProxies: Set<String>

    public init(trustedProxies: [String]) {
        self.trustedProxies = Set(trustedProxies.map(Self.normalized))
    }

    public func clientAddress(peer: String, forwardedFor: [String]) -> String {
        let peer = Self.normalized(peer)
        guard trustedProxies.contains(peer) else { return peer }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { Self.normalized(String($0)) }.filter { !$0.isEmpty }
        for hop in hops.reversed() where !trustedProxies.contains(hop) {
            return hop
        }
        return hops.first ?? peer
    }

    /// Trims, drops an IPv6 zone-less bracket form and the IPv4-mapped prefix, so one address has one spelling.
    static func normalized(_ address: String) -> String {
        var text = address.trimmingWhitespace().lowercased()
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            text = String(text[text.index(after: text.startIndex)..<close])
        }
        if text.hasPrefix("::ffff:"), text.dropFirst(7).contains(".") { text = String(text.dropFirst(7)) }
        return text
    }
}
