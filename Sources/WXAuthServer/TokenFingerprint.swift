import WXAuthCrypto

/// A short keyed hash of a token for log lines: identifies a token across lines of one process run, reveals
/// nothing about it (the key is random per process, so fingerprints cannot be brute-forced offline).
struct TokenFingerprint: Sendable {
    private let key: HMACKey

    init(random: any RandomSource = OpenSSLRandom()) {
        // Fail soft: a fingerprint key of zeros would still hide the token (HMAC is one-way); RAND failure is
        // handled where it matters, at token issue.
        let secret = (try? random.bytes(count: 32)) ?? [UInt8](repeating: 0, count: 32)
        self.key = try! HMACKey(key: secret)
    }

    func callAsFunction(_ token: String) -> String {
        guard let mac = try? key.authenticationCode(for: Array(token.utf8)) else { return "?" }
        return mac.prefix(6).map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined()
    }
}
