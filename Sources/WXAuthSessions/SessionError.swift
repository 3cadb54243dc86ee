/// Why a session operation failed. The server maps each case onto one protocol status.
public enum SessionError: Error, Hashable, Sendable {
    /// Unknown, mistyped or forged token, or a record that failed its integrity check.
    case invalidToken
    case expired
    case revoked
    case unknownApp
    /// The session cap is reached (policy: refuse new sessions, keep existing ones).
    case full
    /// WeChat's session_key was not 16 bytes of base64.
    case malformedSessionKey
    /// OpenSSL failed (for example RAND_bytes): nothing was issued.
    case cryptoFailure(String)
}
