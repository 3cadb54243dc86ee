/// What a request asks for: the `kind` byte of a request frame. Open set: unknown values decode as
/// `UNKNOWN_OPCODE` answers, never as crashes.
public struct Opcode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Server-initiated greeting (request id 0); never sent by a client.
    public static let hello = Opcode(rawValue: 0x00)
    public static let ping = Opcode(rawValue: 0x01)
    public static let auth = Opcode(rawValue: 0x02)
    public static let login = Opcode(rawValue: 0x10)
    public static let validate = Opcode(rawValue: 0x11)
    public static let refresh = Opcode(rawValue: 0x12)
    public static let revoke = Opcode(rawValue: 0x13)
    public static let revokeUser = Opcode(rawValue: 0x14)
    // User data (the session_key is used inside the service and never returned).
    public static let decrypt = Opcode(rawValue: 0x20)
    public static let verifySignature = Opcode(rawValue: 0x21)
    public static let phoneNumber = Opcode(rawValue: 0x22)
    public static let checkSessionKey = Opcode(rawValue: 0x23)
    public static let resetSessionKey = Opcode(rawValue: 0x24)

    public static let requestOpcodes: [Opcode] = [
        .ping, .auth, .login, .validate, .refresh, .revoke, .revokeUser,
        .decrypt, .verifySignature, .phoneNumber, .checkSessionKey, .resetSessionKey,
    ]

    public var name: String {
        switch self {
        case .hello: "HELLO"
        case .ping: "PING"
        case .auth: "AUTH"
        case .login: "LOGIN"
        case .validate: "VALIDATE"
        case .refresh: "REFRESH"
        case .revoke: "REVOKE"
        case .revokeUser: "REVOKE_USER"
        case .decrypt: "DECRYPT"
        case .verifySignature: "VERIFY_SIGNATURE"
        case .phoneNumber: "PHONE_NUMBER"
        case .checkSessionKey: "CHECK_SESSION_KEY"
        case .resetSessionKey: "RESET_SESSION_KEY"
        default: "0x" + String(rawValue, radix: 16)
        }
    }

    public init?(name: String) {
        guard let match = (Self.requestOpcodes + [.hello]).first(where: { $0.name == name }) else { return nil }
        self = match
    }

    public var description: String { name }
}
