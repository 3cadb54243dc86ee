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
    /// The change cannot be kept: the journal cannot write (disk full, I/O error). Refused before the change while
    /// the journal is failing; with `journal_flush: always`, also when the write of this very change failed. The
    /// caller must not acknowledge the change (Redis answers MISCONF in the same situation).
    case storeUnavailable
}
