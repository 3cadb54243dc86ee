/// The Redis key names of the shared store. Every name carries a hash tag (`{...}`) so that what one operation
/// touches lives in one cluster slot:
/// - `wxs:{T}:S`: one session (T: the user's 8-hex slot tag, S: the session id in hex);
/// - `wxu:{T}:U`: the user's index of sessions (a sorted set scored by absolute expiry);
/// - `wxw:{T}:U`: the user's revocation watermark (REVOKE_USER time);
/// - `wxc:{H}`, `wxr:{H}`, `wxt:{H}` (+ `wxt:{H}:fetching`): coordination (code outcomes, rate-limit buckets, access
///   tokens), H a keyed hash of what is coordinated, so they spread over the slots (`CoordinationKeyNaming`).
/// Key names never contain a token, a code or an openid: only keyed or one-way hashes of them.
public enum SharedStoreKeys {
    public static let sessionPrefix = "wxs:"
    public static let userIndexPrefix = "wxu:"
    public static let userWatermarkPrefix = "wxw:"
    public static let codePrefix = "wxc:"
    public static let ratePrefix = "wxr:"
    public static let accessTokenPrefix = "wxt:"
}
