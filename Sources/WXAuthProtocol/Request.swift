import NIOCore

/// A request body, one case per opcode.
public enum Request: Hashable, Sendable {
    case ping
    case auth(callerID: String, proof: [UInt8])
    case login(appID: String, code: String)
    case validate(token: String)
    case refresh(token: String)
    case revoke(token: String)
    case revokeUser(appID: String, openid: String)
    case decrypt(token: String, encryptedData: String, iv: String)
    case verifySignature(token: String, rawData: String, signature: String)
    case phoneNumber(token: String, code: String)
    case checkSessionKey(token: String)
    case resetSessionKey(token: String)

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

    /// Decodes the body of a request frame whose opcode is `opcode`. The whole body must be consumed.
    public static func decode(opcode: Opcode, body: inout ByteBuffer) throws(RequestDecodingError) -> Request {
        do {
            let request: Request
            switch opcode {
            case .ping:
                request = .ping
            case .auth:
                request = .auth(
                    callerID: try body.readWireString("caller_id", allowed: FieldLimits.callerID),
                    proof: try body.readWireBytes("proof", allowed: FieldLimits.authProof)
                )
            case .login:
                request = .login(
                    appID: try body.readWireString("app_id", allowed: FieldLimits.appID),
                    code: try body.readWireString("code", allowed: FieldLimits.code)
                )
            case .validate:
                request = .validate(token: try body.readWireString("token", allowed: FieldLimits.token))
            case .refresh:
                request = .refresh(token: try body.readWireString("token", allowed: FieldLimits.token))
            case .revoke:
                request = .revoke(token: try body.readWireString("token", allowed: FieldLimits.token))
            case .revokeUser:
                request = .revokeUser(
                    appID: try body.readWireString("app_id", allowed: FieldLimits.appID),
                    openid: try body.readWireString("openid", allowed: FieldLimits.openid)
                )
            case .decrypt:
                request = .decrypt(
                    token: try body.readWireString("token", allowed: FieldLimits.token),
                    encryptedData: try body.readWireString("encrypted_data", allowed: FieldLimits.encryptedData),
                    iv: try body.readWireString("iv", allowed: FieldLimits.iv)
                )
            case .verifySignature:
                request = .verifySignature(
                    token: try body.readWireString("token", allowed: FieldLimits.token),
                    rawData: try body.readWireString("raw_data", allowed: FieldLimits.rawData),
                    signature: try body.readWireString("signature", allowed: FieldLimits.signature)
                )
            case .phoneNumber:
                request = .phoneNumber(
                    token: try body.readWireString("token", allowed: FieldLimits.token),
                    code: try body.readWireString("code", allowed: FieldLimits.phoneCode)
                )
            case .checkSessionKey:
                request = .checkSessionKey(token: try body.readWireString("token", allowed: FieldLimits.token))
            case .resetSessionKey:
                request = .resetSessionKey(token: try body.readWireString("token", allowed: FieldLimits.token))
            default:
                throw RequestDecodingError.unknownOpcode(opcode.rawValue)
            }
            try body.requireFullyConsumed()
            return request
        } catch let error as WireDecodingError {
            throw .malformed(error.message)
        } catch let error as RequestDecodingError {
            throw error
        } catch {
            throw .malformed("undecodable body")
        }
    }

    /// Writes the body (not the header) of this request.
    public func encodeBody(into buffer: inout ByteBuffer) {
        switch self {
        case .ping:
            break
        case .auth(let callerID, let proof):
            buffer.writeWireString(callerID)
            buffer.writeWireBytes(proof)
        case .login(let appID, let code):
            buffer.writeWireString(appID)
            buffer.writeWireString(code)
        case .validate(let token), .refresh(let token), .revoke(let token), .checkSessionKey(let token),
             .resetSessionKey(let token):
            buffer.writeWireString(token)
        case .decrypt(let token, let encryptedData, let iv):
            buffer.writeWireString(token)
            buffer.writeWireString(encryptedData)
            buffer.writeWireString(iv)
        case .verifySignature(let token, let rawData, let signature):
            buffer.writeWireString(token)
            buffer.writeWireString(rawData)
            buffer.writeWireString(signature)
        case .phoneNumber(let token, let code):
            buffer.writeWireString(token)
            buffer.writeWireString(code)
        case .revokeUser(let appID, let openid):
            buffer.writeWireString(appID)
            buffer.writeWireString(openid)
        }
    }
}

/// Why a request frame could not be turned into a `Request`; each maps to one error status.
public enum RequestDecodingError: Error, Hashable, Sendable {
    case unsupportedVersion(UInt8)
    case unknownOpcode(UInt8)
    case malformed(String)

    /// The error response that answers this failure.
    public var response: ServerError {
        switch self {
        case .unsupportedVersion(let version):
            ServerError(.unsupportedVersion, "protocol version \(version) is not supported",
                        supportedVersion: WireFormat.version)
        case .unknownOpcode(let opcode):
            ServerError(.unknownOpcode, "unknown opcode 0x" + String(opcode, radix: 16))
        case .malformed(let message):
            ServerError(.malformedRequest, message)
        }
    }
}
