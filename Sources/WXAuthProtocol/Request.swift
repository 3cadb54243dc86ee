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

    /// Decodes the body of a request frame whose opcode is `opcode`. The whole body must be consumed. The same
    /// decoders as the server's (`RequestMessage`), with every field as a String.
    public static func decode(opcode: Opcode, body: inout ByteBuffer) throws(RequestDecodingError) -> Request {
        Request(try RequestMessage.decode(opcode: opcode, body: &body))
    }

    /// The client's form of a decoded request.
    public init(_ message: RequestMessage) {
        switch message {
        case .ping: self = .ping
        case .auth(let auth): self = .auth(callerID: auth.callerID, proof: auth.proof)
        case .login(let login): self = .login(appID: login.appID, code: login.code)
        case .validate(let validate): self = .validate(token: validate.tokenString)
        case .refresh(let refresh): self = .refresh(token: refresh.token)
        case .revoke(let revoke): self = .revoke(token: revoke.token)
        case .revokeUser(let revokeUser): self = .revokeUser(appID: revokeUser.appID, openid: revokeUser.openid)
        case .decrypt(let decrypt):
            self = .decrypt(token: decrypt.token, encryptedData: decrypt.encryptedData, iv: decrypt.iv)
        case .verifySignature(let verify):
            self = .verifySignature(token: verify.token, rawData: verify.rawData, signature: verify.signature)
        case .phoneNumber(let phone): self = .phoneNumber(token: phone.token, code: phone.code)
        case .checkSessionKey(let check): self = .checkSessionKey(token: check.token)
        case .resetSessionKey(let reset): self = .resetSessionKey(token: reset.token)
        }
    }

    /// The server's form of this request (what `RequestMessage.decode` returns for its encoding).
    public var message: RequestMessage {
        switch self {
        case .ping: .ping
        case .auth(let callerID, let proof): .auth(.init(callerID: callerID, proof: proof))
        case .login(let appID, let code): .login(.init(appID: appID, code: code))
        case .validate(let token): .validate(.init(token: token))
        case .refresh(let token): .refresh(.init(token: token))
        case .revoke(let token): .revoke(.init(token: token))
        case .revokeUser(let appID, let openid): .revokeUser(.init(appID: appID, openid: openid))
        case .decrypt(let token, let encryptedData, let iv):
            .decrypt(.init(token: token, encryptedData: encryptedData, iv: iv))
        case .verifySignature(let token, let rawData, let signature):
            .verifySignature(.init(token: token, rawData: rawData, signature: signature))
        case .phoneNumber(let token, let code): .phoneNumber(.init(token: token, code: code))
        case .checkSessionKey(let token): .checkSessionKey(.init(token: token))
        case .resetSessionKey(let token): .resetSessionKey(.init(token: token))
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
    /// Request id 0 is the server's own (HELLO, framing errors); a request may not use it.
    case reservedRequestID
    case unsupportedVersion(UInt8)
    case unknownOpcode(UInt8)
    case malformed(String)

    /// The error response that answers this failure.
    public var response: ServerError {
        switch self {
        case .reservedRequestID:
            ServerError(.malformedRequest, "request id 0 is reserved for the server's own frames")
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
