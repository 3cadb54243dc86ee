/// Byte-length limits of request fields (PROTOCOL.md "Field limits").
public enum FieldLimits {
    public static let appID = 1...64
    public static let code = 1...256
    public static let token = 1...128
    public static let openid = 1...128
    public static let callerID = 1...64
    public static let authProof = 32...32
    public static let nonce = 32...32
    /// Strings in responses (messages, unionid, ...) may be anything a u16 can carry.
    public static let responseString = 0...Int(UInt16.max)
}
