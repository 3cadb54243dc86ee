import Foundation
import WXAuthProtocol

/// The JSON bodies the edge accepts (protocol/HTTP.md). Unknown keys are ignored; a missing, mistyped or
/// oversized field is MALFORMED_REQUEST naming the field.
struct LoginBody: Decodable {
    var app_id: String
    var code: String
}

/// `/v1/refresh` and `/v1/logout`: the token in the body, or in `Authorization: Bearer`.
struct TokenBody: Decodable {
    var token: String?
}

/// `/v1/user-info`: wx.getUserProfile / getUserInfo's fields. With `raw_data` and `signature`, the signature is
/// checked before the data is decrypted.
struct UserInfoBody: Decodable {
    var token: String
    var encrypted_data: String
    var iv: String
    var raw_data: String?
    var signature: String?
}

struct PhoneNumberBody: Decodable {
    var token: String
    var code: String
}

enum RequestBodyDecoder {
    static func decode<Body: Decodable>(_ type: Body.Type, from bytes: [UInt8]) throws(ServerError) -> Body {
        guard !bytes.isEmpty else { throw ServerError(.malformedRequest, "the request body must be a JSON object") }
        do {
            return try JSONDecoder().decode(Body.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw ServerError(.malformedRequest, describe(error))
        } catch {
            throw ServerError(.malformedRequest, "the request body is not JSON")
        }
    }

    /// Checks a field's UTF-8 length against the binary protocol's limit for it (PROTOCOL.md "Field limits").
    static func check(_ value: String, _ name: String, _ allowed: ClosedRange<Int>) throws(ServerError) {
        let count = value.utf8.count
        guard allowed.contains(count) else {
            throw ServerError(.malformedRequest, "\(name): \(count) bytes, allowed \(allowed.lowerBound) to \(allowed.upperBound)")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map(\.stringValue).joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, _):
            return "\(key.stringValue) is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            let field = path(context)
            return field.isEmpty ? "the request body must be a JSON object" : "\(field) must be a string"
        case .dataCorrupted:
            return "the request body is not JSON"
        @unknown default:
            return "the request body is not valid"
        }
    }
}
