/// What an authenticated caller may do (PROTOCOL.md "Permissions"). PING is always allowed.
public struct Permissions: OptionSet, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let ping = Permissions(rawValue: 1)
    public static let login = Permissions(rawValue: 2)
    public static let validate = Permissions(rawValue: 4)
    public static let refresh = Permissions(rawValue: 8)
    public static let revoke = Permissions(rawValue: 16)
    public static let revokeUser = Permissions(rawValue: 32)
    public static let decrypt = Permissions(rawValue: 64)
    public static let verifySignature = Permissions(rawValue: 128)
    public static let phoneNumber = Permissions(rawValue: 256)
    public static let checkSessionKey = Permissions(rawValue: 512)
    public static let resetSessionKey = Permissions(rawValue: 1024)
    public static let all: Permissions = [
        .ping, .login, .validate, .refresh, .revoke, .revokeUser,
        .decrypt, .verifySignature, .phoneNumber, .checkSessionKey, .resetSessionKey,
    ]

    /// The permission a request needs (AUTH needs none).
    public init(requiredFor opcode: Opcode) {
        switch opcode {
        case .ping: self = .ping
        case .login: self = .login
        case .validate: self = .validate
        case .refresh: self = .refresh
        case .revoke: self = .revoke
        case .revokeUser: self = .revokeUser
        case .decrypt: self = .decrypt
        case .verifySignature: self = .verifySignature
        case .phoneNumber: self = .phoneNumber
        case .checkSessionKey: self = .checkSessionKey
        case .resetSessionKey: self = .resetSessionKey
        default: self = []
        }
    }

    /// Parses a configuration name such as "VALIDATE" (the opcode names) or "ALL".
    public init?(name: String) {
        if name.uppercased() == "ALL" { self = .all; return }
        guard let opcode = Opcode(name: name.uppercased()), opcode != .auth, opcode != .hello else { return nil }
        self.init(requiredFor: opcode)
    }
}
