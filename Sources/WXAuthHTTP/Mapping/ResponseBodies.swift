import Foundation
import WXAuthProtocol

/// `/v1/login` and `/v1/refresh`: the token the mini program keeps, and when the session ends (milliseconds
/// since the Unix epoch: `expires_at` slides with use, `absolute_expires_at` never moves).
struct SessionBody: Encodable {
    var token: String
    var expires_at: Int64
    var absolute_expires_at: Int64

    init(token: String, session: SessionView) {
        self.token = token
        self.expires_at = session.expiresAt
        self.absolute_expires_at = session.absoluteExpiresAt
    }
}

struct LogoutBody: Encodable {
    var revoked = true
}

struct PhoneNumberReplyBody: Encodable {
    var phone_number: String
    var pure_phone_number: String
    var country_code: String

    init(_ phone: WXAuthProtocol.PhoneNumber) {
        self.phone_number = phone.phoneNumber
        self.pure_phone_number = phone.purePhoneNumber
        self.country_code = phone.countryCode
    }
}

enum UserInfoReply {
    /// `{"user_info": <the decrypted JSON object, watermark included>}`. The plaintext is JSON WeChat encrypted;
    /// anything else is refused rather than passed on.
    static func body(decryptedJSON json: String) -> [UInt8]? {
        let bytes = Array(json.utf8)
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)), object is [String: Any] else { return nil }
        return Array(#"{"user_info":"#.utf8) + bytes + Array("}".utf8)
    }
}
