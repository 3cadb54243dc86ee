import NIOCore

/// A request body as the server reads it: one case per opcode, each with its own payload type (the shape of
/// postgres-nio's `Messages/`). Payloads keep what the server needs in the form it needs it: VALIDATE, the hot
/// path, carries the token as the bytes sliced from the frame (no `String`); the others keep Strings where they
/// are not hot. `Request` is the client's form of the same bodies (Strings throughout), decoded through these types.
public enum RequestMessage: Hashable, Sendable {
    case ping
    case auth(Auth)
    case login(Login)
    case validate(Validate)
    case refresh(Refresh)
    case revoke(Revoke)
    case revokeUser(RevokeUser)
    case decrypt(Decrypt)
    case verifySignature(VerifySignature)
    case phoneNumber(PhoneNumber)
    case checkSessionKey(CheckSessionKey)
    case resetSessionKey(ResetSessionKey)

    public var opcode: Opcode {
        switch self {
        case .ping: .ping
        case .auth: .auth
        case .login: .login
        case .validate: .validate
        case .refresh: .refresh
        case .revoke: .revoke
        case .revokeUser: .revokeUser
        case .decrypt: .decrypt
        case .verifySignature: .verifySignature
        case .phoneNumber: .phoneNumber
        case .checkSessionKey: .checkSessionKey
        case .resetSessionKey: .resetSessionKey
        }
    }

    /// Writes the body (not the header): the same bytes `Request.encodeBody` writes.
    public func encodeBody(into buffer: inout ByteBuffer) {
        switch self {
        case .ping: break
        case .auth(let payload): payload.encode(into: &buffer)
        case .login(let payload): payload.encode(into: &buffer)
        case .validate(let payload): payload.encode(into: &buffer)
        case .refresh(let payload): payload.encode(into: &buffer)
        case .revoke(let payload): payload.encode(into: &buffer)
        case .revokeUser(let payload): payload.encode(into: &buffer)
        case .decrypt(let payload): payload.encode(into: &buffer)
        case .verifySignature(let payload): payload.encode(into: &buffer)
        case .phoneNumber(let payload): payload.encode(into: &buffer)
        case .checkSessionKey(let payload): payload.encode(into: &buffer)
        case .resetSessionKey(let payload): payload.encode(into: &buffer)
        }
    }

    /// Decodes the body of a request frame whose opcode is `opcode`. The whole body must be consumed.
    public static func decode(opcode: Opcode, body: inout ByteBuffer) throws(RequestDecodingError) -> RequestMessage {
        let decoded: RequestMessage?
        do throws(WireDecodingError) {
            switch opcode {
            case .ping: decoded = .ping
            case .auth: decoded = .auth(try .decode(from: &body))
            case .login: decoded = .login(try .decode(from: &body))
            case .validate: decoded = .validate(try .decode(from: &body))
            case .refresh: decoded = .refresh(try .decode(from: &body))
            case .revoke: decoded = .revoke(try .decode(from: &body))
            case .revokeUser: decoded = .revokeUser(try .decode(from: &body))
            case .decrypt: decoded = .decrypt(try .decode(from: &body))
            case .verifySignature: decoded = .verifySignature(try .decode(from: &body))
            case .phoneNumber: decoded = .phoneNumber(try .decode(from: &body))
            case .checkSessionKey: decoded = .checkSessionKey(try .decode(from: &body))
            case .resetSessionKey: decoded = .resetSessionKey(try .decode(from: &body))
            default: decoded = nil
            }
            if decoded != nil { try body.requireFullyConsumed() }
        } catch {
            throw .malformed(error.message)
        }
        guard let decoded else { throw .unknownOpcode(opcode.rawValue) }
        return decoded
    }
}

/// A request payload: reads itself from a body positioned at its first field (the caller checks the body is then
/// fully consumed) and writes itself back byte for byte.
public protocol RequestPayload: Hashable, Sendable {
    static func decode(from body: inout ByteBuffer) throws(WireDecodingError) -> Self
    func encode(into buffer: inout ByteBuffer)
}
