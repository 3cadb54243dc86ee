#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Random strings shaped like WeChat's. The simulator is a test double: `SystemRandomNumberGenerator` is enough.
enum RandomIdentifiers {
    private static let alphanumerics = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
    private static let urlSafe = Self.alphanumerics + Array("-_".utf8)

    /// A login code: 32 alphanumeric characters, like `wx.login`'s.
    static func code() -> String {
        self.string(count: 32, from: self.alphanumerics)
    }

    /// An openid: "o" followed by 27 URL-safe characters (28 in all).
    static func openid() -> String {
        "o" + self.string(count: 27, from: self.urlSafe)
    }

    /// A session_key: base64 of 16 random bytes (24 characters).
    static func sessionKey() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString()
    }

    /// A request id like WeChat's `rid`: three groups of 8 lower-case hex digits.
    static func rid() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<3).map { _ in
            let hex = String(UInt32.random(in: .min ... .max, using: &generator), radix: 16)
            return String(repeating: "0", count: 8 - hex.count) + hex
        }.joined(separator: "-")
    }

    private static func string(count: Int, from alphabet: [UInt8]) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<count).map { _ in alphabet.randomElement(using: &generator)! }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension RandomIdentifiers {
    /// An access token: 136 URL-safe characters, shaped like WeChat's.
    static func accessToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        let bytes = (0..<136).map { _ in alphabet.randomElement(using: &generator)! }
        return String(decoding: bytes, as: UTF8.self)
    }
}
