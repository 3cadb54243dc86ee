import Foundation
import Testing
import WXAuthCrypto

/// DECRYPT's input tolerance and watermark age rule, from protocol/vectors/vectors.json ("base64",
/// "watermark_ages"), read in place at test time.
@Suite("User data vectors")
struct UserDataVectorTests {
    struct Base64Vector: Decodable {
        var name: String
        var text: String
        var hex: String?
    }

    struct WatermarkAgeVector: Decodable {
        var timestamp: Int64
        var now_ms: Int64
        var max_age_seconds: Int64
        var accepted: Bool
    }

    struct File: Decodable {
        var base64: [Base64Vector]
        var watermark_ages: [WatermarkAgeVector]
    }

    static func load() throws -> File {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("protocol/vectors/vectors.json")
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: url))
    }

    @Test("every base64 vector decodes to its bytes, or is refused when it has none")
    func base64() throws {
        let vectors = try Self.load().base64
        #expect(vectors.contains { $0.text.contains("\r\n") })
        for vector in vectors {
            let decoded = WeChatUserData.decodeBase64(vector.text).map { hexString($0) }
            #expect(decoded == vector.hex, "\(vector.name)")
        }
    }

    @Test("every watermark age vector is accepted or refused as it says")
    func watermarkAges() throws {
        for vector in try Self.load().watermark_ages {
            let fresh = WeChatUserData.watermarkIsFresh(
                timestamp: vector.timestamp, maxAgeMilliseconds: vector.max_age_seconds * 1000,
                nowMilliseconds: vector.now_ms)
            #expect(fresh == vector.accepted, "\(vector.timestamp) at \(vector.now_ms) with \(vector.max_age_seconds) s")
        }
    }

    @Test("user data wrapped MIME style (CRLF every 76 characters) decrypts like the unwrapped text")
    func crlfWrappedUserDataDecrypts() throws {
        let key = [UInt8](repeating: 0x2A, count: 16)
        let iv = [UInt8](repeating: 0x07, count: 16)
        let plaintext = #"{"nickName":"Band","padding":"\#(String(repeating: "x", count: 120))","watermark":{"appid":"wxapp","timestamp":1764160000}}"#
        let encrypted = try WeChatUserData.encrypt(Array(plaintext.utf8), sessionKey: key, iv: iv)
        var wrapped = ""
        for (offset, character) in encrypted.enumerated() {
            if offset > 0 && offset % 76 == 0 { wrapped += "\r\n" }
            wrapped.append(character)
        }
        #expect(wrapped.contains("\r\n"))
        let ivText = Data(iv).base64EncodedString() + "\r\n"
        let decrypted = try WeChatUserData.decrypt(
            encryptedData: wrapped, iv: ivText, sessionKey: key, expectedAppID: "wxapp",
            maxAgeMilliseconds: 1_000, nowMilliseconds: 1_764_160_001_999)
        #expect(decrypted.json == plaintext)
    }
}
