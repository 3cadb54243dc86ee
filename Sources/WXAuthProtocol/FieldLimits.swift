/// Byte-length limits of request fields (PROTOCOL.md "Field limits").
public enum FieldLimits {
    public static let appID = 1...64
    public static let code = 1...256
    public static let token = 1...128
    public static let openid = 1...128
    public static let callerID = 1...64
    public static let authProof = 32...32
    /// DECRYPT's base64 `encrypted_data` (bounded in practice by the frame size).
    public static let encryptedData = 1...60_000
    /// DECRYPT's base64 `iv` (24 characters when well-formed; longer or shorter is a DECRYPT_FAILED reason).
    public static let iv = 1...64
    /// VERIFY_SIGNATURE's `raw_data` (may be empty).
    public static let rawData = 0...60_000
    /// VERIFY_SIGNATURE's hex `signature` (40 characters when well-formed).
    public static let signature = 1...128
    /// PHONE_NUMBER's code from the getPhoneNumber button.
    public static let phoneCode = 1...256
    public static let nonce = 32...32
    /// Strings in responses (messages, unionid, ...) may be anything a u16 can carry.
    public static let responseString = 0...Int(UInt16.max)
}
