import Foundation

/// Why WeChat user data could not be decrypted or was refused. Messages never echo the data, the iv or the key.
public struct UserDataError: Error, Hashable, Sendable, CustomStringConvertible {
    /// One byte on the wire (PROTOCOL.md, DECRYPT_FAILED).
    public enum Reason: UInt8, Sendable, Hashable, CaseIterable {
        case badBase64 = 1
        case badKeyLength = 2
        case badIVLength = 3
        case badPaddingOrKey = 4
        case appIDMismatch = 5
        case staleWatermark = 6

        public var name: String {
            switch self {
            case .badBase64: "bad_base64"
            case .badKeyLength: "bad_key_length"
            case .badIVLength: "bad_iv_length"
            case .badPaddingOrKey: "bad_padding_or_key"
            case .appIDMismatch: "appid_mismatch"
            case .staleWatermark: "stale_watermark"
            }
        }
    }

    public var reason: Reason
    public var message: String

    public init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    public var description: String { "\(reason.name): \(message)" }

    /// The message for the most common real-world failure.
    public static let loginAgainMessage =
        "cannot decrypt with the current session_key: a newer wx.login replaced it or the data was altered; "
        + "log in again (wx.login + LOGIN) and fetch the data again"
}

/// WeChat's "open data" cryptography: AES-128-CBC user data with a watermark, the rawData signature, and the
/// checksession signature. Pure functions over bytes; the server, the simulator and the CLI share them.
public enum WeChatUserData {
    /// Decrypted user data and its watermark.
    public struct Decrypted: Sendable, Hashable {
        /// The plaintext JSON exactly as decrypted (UTF-8).
        public var json: String
        public var watermarkAppID: String
        /// Seconds since the epoch, as WeChat writes it.
        public var watermarkTimestamp: Int64
    }

    /// Base64 as it arrives from mini programs: a `+` that became a space through URL decoding is put back,
    /// line breaks (CR, LF, CRLF) and tabs are ignored, missing `=` padding is tolerated. Read by Unicode scalar, not
    /// by Character: "\r\n" is one Character, so a CRLF-wrapped (MIME) value would otherwise keep its line breaks.
    public static func decodeBase64(_ text: String) -> [UInt8]? {
        var cleaned = ""
        cleaned.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case " ": cleaned.append("+")
            case "\n", "\r", "\t": continue
            default: cleaned.unicodeScalars.append(scalar)
            }
        }
        while cleaned.utf8.count % 4 != 0 && cleaned.utf8.count % 4 != 1 { cleaned.append("=") }
        guard let data = Data(base64Encoded: cleaned) else { return nil }
        return Array(data)
    }

    /// Whether a watermark written at `timestamp` (whole seconds, as WeChat writes it) is within `maxAgeMilliseconds`
    /// at `nowMilliseconds`. The age is counted in whole seconds, as the timestamp is: a limit of N s accepts data
    /// from the last N seconds and the current one, so a 1 s limit never refuses data made a moment ago.
    public static func watermarkIsFresh(timestamp: Int64, maxAgeMilliseconds: Int64, nowMilliseconds: Int64) -> Bool {
        let nowSeconds = nowMilliseconds >= 0 ? nowMilliseconds / 1000 : (nowMilliseconds - 999) / 1000
        let (ageSeconds, overflow) = nowSeconds.subtractingReportingOverflow(timestamp)
        guard !overflow else { return timestamp > nowSeconds }
        return ageSeconds <= maxAgeMilliseconds / 1000
    }

    /// Decrypts `encryptedData` with the session_key and checks its watermark.
    /// - Parameters:
    ///   - expectedAppID: the app the session belongs to; nil skips the check (offline debugging).
    ///   - maxAgeMilliseconds: refuse watermarks older than this (nil: no limit).
    public static func decrypt(
        encryptedData: String, iv: String, sessionKey: [UInt8], expectedAppID: String?,
        maxAgeMilliseconds: Int64? = nil, nowMilliseconds: Int64
    ) throws(UserDataError) -> Decrypted {
        guard sessionKey.count == AES128CBC.keySize else {
            throw UserDataError(.badKeyLength, "session_key must be 16 bytes (24 base64 characters), not \(sessionKey.count)")
        }
        guard let ivBytes = decodeBase64(iv) else { throw UserDataError(.badBase64, "iv is not valid base64") }
        guard ivBytes.count == AES128CBC.blockSize else {
            throw UserDataError(.badIVLength, "iv must be 16 bytes (24 base64 characters), not \(ivBytes.count)")
        }
        guard let ciphertext = decodeBase64(encryptedData) else {
            throw UserDataError(.badBase64, "encryptedData is not valid base64")
        }
        let plaintext: [UInt8]
        do {
            plaintext = try AES128CBC.decrypt(ciphertext, key: sessionKey, iv: ivBytes)
        } catch {
            switch error {
            case .ciphertextLength(let count):
                throw UserDataError(.badPaddingOrKey, "encryptedData is \(count) bytes, not a whole number of AES blocks")
            case .keyLength(let count):
                throw UserDataError(.badKeyLength, "session_key must be 16 bytes, not \(count)")
            case .ivLength(let count):
                throw UserDataError(.badIVLength, "iv must be 16 bytes, not \(count)")
            case .badPadding, .crypto:
                throw UserDataError(.badPaddingOrKey, UserDataError.loginAgainMessage)
            }
        }
        // A wrong key passes the padding check about once in 256 tries; the JSON check catches those.
        guard let json = String(validating: plaintext, as: UTF8.self),
              let object = try? JSONSerialization.jsonObject(with: Data(plaintext)) as? [String: Any]
        else {
            throw UserDataError(.badPaddingOrKey, UserDataError.loginAgainMessage)
        }
        guard let watermark = object["watermark"] as? [String: Any], let appID = watermark["appid"] as? String else {
            throw UserDataError(.appIDMismatch, "the decrypted data carries no watermark.appid")
        }
        let timestamp = (watermark["timestamp"] as? NSNumber)?.int64Value ?? 0
        if let expectedAppID, appID != expectedAppID {
            throw UserDataError(.appIDMismatch, "the data's watermark names another app (\(appID)), not \(expectedAppID)")
        }
        if let maxAgeMilliseconds,
           !watermarkIsFresh(timestamp: timestamp, maxAgeMilliseconds: maxAgeMilliseconds, nowMilliseconds: nowMilliseconds) {
            let age = nowMilliseconds / 1000 &- timestamp
            throw UserDataError(
                .staleWatermark,
                "the data's watermark is \(age) s old, more than the allowed \(maxAgeMilliseconds / 1000) s; fetch it again")
        }
        return Decrypted(json: json, watermarkAppID: appID, watermarkTimestamp: timestamp)
    }

    /// Offline form: the session_key as WeChat sends it (base64).
    public static func decrypt(
        encryptedData: String, iv: String, sessionKeyBase64: String, expectedAppID: String? = nil,
        maxAgeMilliseconds: Int64? = nil, nowMilliseconds: Int64
    ) throws(UserDataError) -> Decrypted {
        guard let key = decodeBase64(sessionKeyBase64) else {
            throw UserDataError(.badBase64, "session_key is not valid base64")
        }
        return try decrypt(
            encryptedData: encryptedData, iv: iv, sessionKey: key, expectedAppID: expectedAppID,
            maxAgeMilliseconds: maxAgeMilliseconds, nowMilliseconds: nowMilliseconds
        )
    }

    /// What WeChat does: AES-128-CBC with PKCS#7 under the session_key; returns base64 (simulator and tests).
    public static func encrypt(_ plaintext: [UInt8], sessionKey: [UInt8], iv: [UInt8]) throws(CryptoError) -> String {
        Data(try AES128CBC.encrypt(plaintext, key: sessionKey, iv: iv)).base64EncodedString()
    }

    /// `hex(sha1(rawData + session_key))`, the session_key in WeChat's base64 form.
    public static func signature(rawData: String, sessionKey: [UInt8]) throws(CryptoError) -> String {
        let keyText = Data(sessionKey).base64EncodedString()
        return hex(try SHA1.hash(Array((rawData + keyText).utf8)))
    }

    /// Whether `signature` is exactly the rawData signature (constant-time over the expected length).
    public static func signatureMatches(rawData: String, signature: String, sessionKey: [UInt8]) throws(CryptoError) -> Bool {
        let expected = Array(try self.signature(rawData: rawData, sessionKey: sessionKey).utf8)
        let given = Array(signature.utf8)
        // Same-length comparison always runs; a different length is unequal.
        let padded = given.count == expected.count ? given : [UInt8](repeating: 0, count: expected.count)
        return constantTimeEquals(padded, expected) && given.count == expected.count
    }

    /// The checksession / resetusersessionkey signature: `hex(HMAC-SHA256(key = session_key, message = ""))`.
    public static func sessionKeySignature(sessionKey: [UInt8]) throws(CryptoError) -> String {
        hex(try HMACKey(key: sessionKey).authenticationCode(for: [UInt8]()))
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        Hex.encode(bytes)
    }
}
