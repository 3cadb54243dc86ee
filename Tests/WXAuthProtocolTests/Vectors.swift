import Foundation
import NIOCore
import WXAuthProtocol

/// protocol/vectors/vectors.json, read in place at test time (never copied into the test target).
struct VectorFile: Decodable {
    var protocolVersion: Int
    var opcodes: [String: UInt8]
    var statuses: [String: UInt8]
    var requests: [MessageVector]
    var responses: [MessageVector]
    var invalid: [InvalidVector]
    var decryptFailureReasons: [String: UInt8]
    var unknownStatuses: [UnknownStatusVector]

    enum CodingKeys: String, CodingKey {
        case protocolVersion = "protocol_version", opcodes, statuses, requests, responses, invalid
        case decryptFailureReasons = "decrypt_failure_reasons", unknownStatuses = "unknown_statuses"
    }

    static var url: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // WXAuthProtocolTests
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()  // package root
            .appendingPathComponent("protocol/vectors/vectors.json")
    }

    static func load() throws -> VectorFile {
        try JSONDecoder().decode(VectorFile.self, from: Data(contentsOf: url))
    }
}

struct MessageVector: Decodable {
    var name: String
    var hex: String
    var decoded: DecodedMessage
}

/// A response whose status this version does not know: its message is read, the rest of its body skipped.
struct UnknownStatusVector: Decodable {
    struct Decoded: Decodable {
        var request_id: UInt32
        var status_code: UInt8
        var message: String
    }

    var name: String
    var hex: String
    var decoded: Decoded
}

struct InvalidVector: Decodable {
    var name: String
    var hex: String
    var expect: String
}

struct DecodedSession: Decodable {
    var appID: String
    var openid: String
    var unionid: String
    var createdAt: Int64
    var expiresAt: Int64
    var absoluteExpiresAt: Int64

    enum CodingKeys: String, CodingKey {
        case appID = "app_id", openid, unionid, createdAt = "created_at", expiresAt = "expires_at"
        case absoluteExpiresAt = "absolute_expires_at"
    }

    var view: SessionView {
        SessionView(appID: appID, openid: openid, unionid: unionid, createdAt: createdAt, expiresAt: expiresAt,
                    absoluteExpiresAt: absoluteExpiresAt)
    }
}

/// The union of every field a vector's `decoded` object may carry.
struct DecodedMessage: Decodable {
    var requestID: UInt32
    var op: String
    var status: String?
    var callerID: String?
    var proofHex: String?
    var appID: String?
    var code: String?
    var token: String?
    var openid: String?
    var flags: UInt8?
    var nonceHex: String?
    var maxFrame: UInt32?
    var serverTime: Int64?
    var permissions: UInt32?
    var session: DecodedSession?
    var revoked: UInt32?
    var message: String?
    var supported: UInt8?
    var errcode: Int32?
    var retryAfterMilliseconds: UInt32?
    var encryptedData: String?
    var iv: String?
    var rawData: String?
    var signature: String?
    var data: String?
    var phoneNumber: String?
    var purePhoneNumber: String?
    var countryCode: String?
    var current: Bool?
    var reason: String?

    enum CodingKeys: String, CodingKey {
        case requestID = "request_id", op, status, callerID = "caller_id", proofHex = "proof_hex", appID = "app_id"
        case code, token, openid, flags, nonceHex = "nonce_hex", maxFrame = "max_frame", serverTime = "server_time"
        case permissions, session, revoked, message, supported, errcode, retryAfterMilliseconds = "retry_after_ms"
        case encryptedData = "encrypted_data", iv, rawData = "raw_data", signature, data, phoneNumber = "phone_number"
        case purePhoneNumber = "pure_phone_number", countryCode = "country_code", current, reason
    }

    struct MissingField: Error, CustomStringConvertible {
        var field: String
        var description: String { "vector lacks \(field)" }
    }

    private func require<T>(_ value: T?, _ field: String) throws -> T {
        guard let value else { throw MissingField(field: field) }
        return value
    }

    var opcode: Opcode {
        get throws { try require(Opcode(name: op), "a known op (\(op))") }
    }

    /// The `Request` this vector means.
    func request() throws -> Request {
        switch try opcode {
        case .ping: return .ping
        case .auth: return .auth(callerID: try require(callerID, "caller_id"), proof: hexBytes(try require(proofHex, "proof_hex")))
        case .login: return .login(appID: try require(appID, "app_id"), code: try require(code, "code"))
        case .validate: return .validate(token: try require(token, "token"))
        case .refresh: return .refresh(token: try require(token, "token"))
        case .revoke: return .revoke(token: try require(token, "token"))
        case .revokeUser: return .revokeUser(appID: try require(appID, "app_id"), openid: try require(openid, "openid"))
        case .decrypt:
            return .decrypt(token: try require(token, "token"), encryptedData: try require(encryptedData, "encrypted_data"),
                            iv: try require(iv, "iv"))
        case .verifySignature:
            return .verifySignature(token: try require(token, "token"), rawData: try require(rawData, "raw_data"),
                                    signature: try require(signature, "signature"))
        case .phoneNumber: return .phoneNumber(token: try require(token, "token"), code: try require(code, "code"))
        case .checkSessionKey: return .checkSessionKey(token: try require(token, "token"))
        case .resetSessionKey: return .resetSessionKey(token: try require(token, "token"))
        default: throw MissingField(field: "a request op (\(op))")
        }
    }

    /// The `Response` this vector means.
    func response() throws -> Response {
        let statusName = try require(status, "status")
        let status = try require(Status(name: statusName), "a known status (\(statusName))")
        guard status == .ok else {
            return .error(ServerError(
                status, try require(message, "message"), errcode: errcode ?? 0,
                retryAfterMilliseconds: retryAfterMilliseconds ?? 0, maxFrame: maxFrame ?? 0,
                supportedVersion: supported ?? 0,
                reason: try reason.map { try require(DecryptFailureReason(name: $0), "a known reason") }
                    ?? DecryptFailureReason(rawValue: 0)
            ))
        }
        switch try opcode {
        case .hello:
            return .hello(Hello(
                authenticationRequired: try require(flags, "flags") & 1 == 1,
                nonce: hexBytes(try require(nonceHex, "nonce_hex")), maxFrame: try require(maxFrame, "max_frame")
            ))
        case .ping: return .pong(serverTime: try require(serverTime, "server_time"))
        case .auth: return .authenticated(permissions: Permissions(rawValue: try require(permissions, "permissions")))
        case .login: return .loggedIn(token: try require(token, "token"), session: try require(session, "session").view)
        case .validate: return .validated(try require(session, "session").view)
        case .refresh: return .refreshed(token: try require(token, "token"), session: try require(session, "session").view)
        case .revoke: return .revoked
        case .revokeUser: return .userRevoked(count: try require(revoked, "revoked"))
        case .decrypt: return .decrypted(json: try require(data, "data"))
        case .verifySignature: return .signatureVerified
        case .phoneNumber:
            return .phoneNumber(PhoneNumber(
                phoneNumber: try require(phoneNumber, "phone_number"),
                purePhoneNumber: try require(purePhoneNumber, "pure_phone_number"),
                countryCode: try require(countryCode, "country_code")))
        case .checkSessionKey: return .sessionKeyChecked(current: try require(current, "current"))
        case .resetSessionKey: return .sessionKeyReset
        default: throw MissingField(field: "a response op (\(op))")
        }
    }
}

// MARK: - Byte helpers

func hexBytes(_ hex: String) -> [UInt8] {
    precondition(hex.count % 2 == 0, "odd hex length")
    var result: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        result.append(UInt8(hex[index..<next], radix: 16)!)
        index = next
    }
    return result
}

func hexString(_ buffer: ByteBuffer) -> String {
    buffer.readableBytesView.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}

func buffer(hex: String) -> ByteBuffer {
    ByteBuffer(bytes: hexBytes(hex))
}

/// Decodes exactly one frame from a complete frame's bytes and requires nothing left over.
func decodeSingleFrame(_ bytes: ByteBuffer, maxFrameSize: Int = WireFormat.defaultMaxFrameSize) throws -> Frame? {
    var bytes = bytes
    let frame = try FrameDecoder.decodeFrame(from: &bytes, maxFrameSize: maxFrameSize)
    if frame != nil && bytes.readableBytes != 0 { return nil }
    return frame
}

func encode(_ request: Request, requestID: UInt32) -> ByteBuffer {
    var out = ByteBuffer()
    FrameEncoder.writeRequest(request, requestID: requestID, into: &out)
    return out
}

func encode(_ response: Response, requestID: UInt32) -> ByteBuffer {
    var out = ByteBuffer()
    FrameEncoder.writeResponse(response, requestID: requestID, into: &out)
    return out
}
