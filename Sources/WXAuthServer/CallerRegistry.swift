import WXAuthCrypto
import WXAuthProtocol

/// Configured callers and the check of their AUTH proofs: `HMAC-SHA256(secret, "wxauth-auth-v1" || nonce)`,
/// compared in constant time. Secrets never leave this type.
final class CallerRegistry: Sendable {
    private struct Caller: Sendable {
        let key: HMACKey
        let permissions: Permissions
    }

    static let proofDomain: [UInt8] = Array("wxauth-auth-v1".utf8)

    private let callers: [String: Caller]
    /// A random challenge per process: a secret presented directly (HTTP edge) is checked by comparing its proof
    /// for this challenge with the configured secret's, so secrets are never kept or compared themselves.
    private let challenge: [UInt8]

    init(_ configurations: [CallerConfiguration], random: any RandomSource = OpenSSLRandom()) throws(CryptoError) {
        self.challenge = try random.bytes(count: 32)
        var callers: [String: Caller] = [:]
        for configuration in configurations {
            callers[configuration.id] = Caller(
                key: try HMACKey(key: Array(configuration.secret.utf8)), permissions: configuration.permissions
            )
        }
        self.callers = callers
    }

    /// Open servers (no callers) grant everything to everyone.
    var isOpen: Bool { callers.isEmpty }

    /// The caller's permissions when `proof` is right for `nonce`; nil otherwise (unknown caller included).
    func authenticate(callerID: String, proof: [UInt8], nonce: [UInt8]) -> Permissions? {
        guard let caller = callers[callerID],
              let expected = try? caller.key.authenticationCode(for: Self.proofDomain + nonce),
              constantTimeEquals(expected, proof)
        else { return nil }
        return caller.permissions.union(.ping)
    }

    /// The caller's permissions when `secret` is its configured secret (compared in constant time); nil otherwise.
    func authenticate(callerID: String, secret: String) -> Permissions? {
        guard !secret.isEmpty, let caller = callers[callerID],
              let expected = try? caller.key.authenticationCode(for: Self.proofDomain + challenge),
              let presented = try? Self.proof(secret: secret, nonce: challenge),
              constantTimeEquals(expected, presented)
        else { return nil }
        return caller.permissions.union(.ping)
    }

    /// What a client computes (used by the Swift client and tests).
    static func proof(secret: String, nonce: [UInt8]) throws(CryptoError) -> [UInt8] {
        try HMACKey(key: Array(secret.utf8)).authenticationCode(for: proofDomain + nonce)
    }
}
