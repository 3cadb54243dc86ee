import NIOCore

/// A response body. Which OK case a frame holds follows from the opcode of the request it answers.
public enum Response: Hashable, Sendable {
    case hello(Hello)
    case pong(serverTime: Int64)
    case authenticated(permissions: Permissions)
    case loggedIn(token: String, session: SessionView)
    case validated(SessionView)
    case refreshed(token: String, session: SessionView)
    case revoked
    case userRevoked(count: UInt32)
    /// DECRYPT: the plaintext JSON (watermark included).
    case decrypted(json: String)
    /// VERIFY_SIGNATURE: the signature is right (a wrong one is SIGNATURE_MISMATCH).
    case signatureVerified
    case phoneNumber(PhoneNumber)
    /// CHECK_SESSION_KEY: whether WeChat still considers the stored session_key the user's current one.
    case sessionKeyChecked(current: Bool)
    /// RESET_SESSION_KEY: WeChat issued a new session_key, now stored in the session (never returned).
    case sessionKeyReset
    case error(ServerError)

    public var status: Status {
        if case .error(let error) = self { return error.status }
        return .ok
    }

    public func encodeBody(into buffer: inout ByteBuffer) {
        switch self {
        case .hello(let hello):
            hello.encode(into: &buffer)
        case .pong(let serverTime):
            buffer.writeInteger(serverTime)
        case .authenticated(let permissions):
            buffer.writeInteger(permissions.rawValue)
        case .loggedIn(let token, let session), .refreshed(let token, let session):
            buffer.writeWireString(token)
            session.encode(into: &buffer)
        case .validated(let session):
            session.encode(into: &buffer)
        case .revoked:
            break
        case .userRevoked(let count):
            buffer.writeInteger(count)
        case .decrypted(let json):
            buffer.writeWireString(json)
        case .signatureVerified, .sessionKeyReset:
            break
        case .phoneNumber(let phone):
            phone.encode(into: &buffer)
        case .sessionKeyChecked(let current):
            buffer.writeInteger(UInt8(current ? 1 : 0))
        case .error(let error):
            error.encodeBody(into: &buffer)
        }
    }

    /// Decodes a response body given its status and the opcode of the request it answers.
    public static func decode(status: Status, opcode: Opcode, body: inout ByteBuffer) throws(WireDecodingError) -> Response {
        let response: Response
        if status != .ok {
            response = .error(try ServerError.decode(status: status, body: &body))
        } else {
            switch opcode {
            case .hello:
                response = .hello(try Hello.decode(from: &body))
            case .ping:
                response = .pong(serverTime: try body.readWireInteger("server_time"))
            case .auth:
                response = .authenticated(permissions: Permissions(rawValue: try body.readWireInteger("permissions")))
            case .login:
                let token = try body.readWireString("token", allowed: FieldLimits.responseString)
                response = .loggedIn(token: token, session: try SessionView.decode(from: &body))
            case .validate:
                response = .validated(try SessionView.decode(from: &body))
            case .refresh:
                let token = try body.readWireString("token", allowed: FieldLimits.responseString)
                response = .refreshed(token: token, session: try SessionView.decode(from: &body))
            case .revoke:
                response = .revoked
            case .revokeUser:
                response = .userRevoked(count: try body.readWireInteger("revoked"))
            case .decrypt:
                response = .decrypted(json: try body.readWireString("data", allowed: FieldLimits.responseString))
            case .verifySignature:
                response = .signatureVerified
            case .phoneNumber:
                response = .phoneNumber(try PhoneNumber.decode(from: &body))
            case .checkSessionKey:
                let current: UInt8 = try body.readWireInteger("current")
                guard current <= 1 else { throw WireDecodingError("current: \(current) is not 0 or 1") }
                response = .sessionKeyChecked(current: current == 1)
            case .resetSessionKey:
                response = .sessionKeyReset
            default:
                throw WireDecodingError("no OK response is defined for opcode \(opcode)")
            }
        }
        try body.requireFullyConsumed()
        return response
    }
}

/// The frame a server sends first on every connection.
public struct Hello: Hashable, Sendable {
    /// All flag bits as sent; bits this version does not know are kept (and ignored), so a HELLO re-encodes exactly.
    public var flags: UInt8
    public var nonce: [UInt8]
    public var maxFrame: UInt32

    /// Flag bit 0.
    public var authenticationRequired: Bool {
        get { flags & 1 == 1 }
        set { flags = newValue ? flags | 1 : flags & ~1 }
    }

    public init(authenticationRequired: Bool, nonce: [UInt8], maxFrame: UInt32) {
        self.init(flags: authenticationRequired ? 1 : 0, nonce: nonce, maxFrame: maxFrame)
    }

    public init(flags: UInt8, nonce: [UInt8], maxFrame: UInt32) {
        self.flags = flags
        self.nonce = nonce
        self.maxFrame = maxFrame
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(flags)
        buffer.writeWireBytes(nonce)
        buffer.writeInteger(maxFrame)
    }

    public static func decode(from buffer: inout ByteBuffer) throws(WireDecodingError) -> Hello {
        Hello(
            flags: try buffer.readWireInteger("flags"),
            nonce: try buffer.readWireBytes("nonce", allowed: FieldLimits.nonce),
            maxFrame: try buffer.readWireInteger("max_frame")
        )
    }
}

/// PHONE_NUMBER's answer: WeChat's `phone_info` fields (the watermark was checked by the server).
public struct PhoneNumber: Hashable, Sendable {
    /// With the country code for numbers outside mainland China, e.g. "+1 4155550100" or "13800138000".
    public var phoneNumber: String
    /// Without the country code.
    public var purePhoneNumber: String
    /// e.g. "86".
    public var countryCode: String

    public init(phoneNumber: String, purePhoneNumber: String, countryCode: String) {
        self.phoneNumber = phoneNumber
        self.purePhoneNumber = purePhoneNumber
        self.countryCode = countryCode
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeWireString(phoneNumber)
        buffer.writeWireString(purePhoneNumber)
        buffer.writeWireString(countryCode)
    }

    public static func decode(from buffer: inout ByteBuffer) throws(WireDecodingError) -> PhoneNumber {
        PhoneNumber(
            phoneNumber: try buffer.readWireString("phone_number", allowed: FieldLimits.responseString),
            purePhoneNumber: try buffer.readWireString("pure_phone_number", allowed: FieldLimits.responseString),
            countryCode: try buffer.readWireString("country_code", allowed: FieldLimits.responseString)
        )
    }
}
