import Foundation
import WXAuthCrypto

/// The simulator's memory for the user-data endpoints: access tokens and phone codes.
struct SimulatorUserData: Sendable {
    struct IssuedToken: Sendable {
        var appID: String
        var expiresAt: ContinuousClock.Instant
        /// Replaced (expire-access-tokens): answers 40001.
        var revoked: Bool
    }

    struct PhoneCode: Sendable {
        var appID: String
        var user: String
        var countryCode: String
        var purePhoneNumber: String
        var issuedAt: ContinuousClock.Instant
        var used: Bool
    }

    let accessTokenLifetime: Duration
    var tokens: [String: IssuedToken] = [:]
    var current: [String: String] = [:]
    var phoneCodes: [String: PhoneCode] = [:]
    var stableTokenCalls = 0
    var phoneNumberCalls = 0
    var checkSessionCalls = 0
    var resetSessionKeyCalls = 0

    init(accessTokenLifetime: Duration) {
        self.accessTokenLifetime = accessTokenLifetime
    }
}

/// What an encrypted user-data payload looks like to the mini program (`wx.getUserInfo`).
public struct WeChatEncryptedUserData: Sendable, Hashable {
    public var encryptedData: String
    public var iv: String
    /// The data without the watermark, as JSON text, and `sha1(rawData + session_key)`.
    public var rawData: String
    public var signature: String
}

/// WeChat's answers for the user-data endpoints: an errcode or a JSON object.
enum SimulatorAnswer: Sendable {
    case error(Int32)
    case ok([String: SimulatorJSON])
}

/// A tiny JSON value the simulator writes (strings and integers are all it needs).
enum SimulatorJSON: Sendable, Encodable {
    case string(String)
    case int(Int64)
    case object([String: SimulatorJSON])

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

extension SimulatorState {
    // MARK: stable_token

    mutating func stableToken(body: [String: Any], now: ContinuousClock.Instant) -> SimulatorAnswer {
        userData.stableTokenCalls += 1
        guard let appID = body["appid"] as? String, !appID.isEmpty else { return .error(41002) }
        guard let secret = apps[appID] else { return .error(40013) }
        guard let given = body["secret"] as? String, !given.isEmpty else { return .error(41004) }
        guard given == secret else { return .error(40125) }
        guard body["grant_type"] as? String == "client_credential" else { return .error(40002) }
        let force = body["force_refresh"] as? Bool ?? false
        if !force, let token = userData.current[appID], let issued = userData.tokens[token], !issued.revoked,
           now < issued.expiresAt {
            return .ok(["access_token": .string(token), "expires_in": .int(Self.seconds(issued.expiresAt - now))])
        }
        if let old = userData.current[appID] { userData.tokens[old]?.revoked = true }
        let token = RandomIdentifiers.accessToken()
        userData.tokens[token] = SimulatorUserData.IssuedToken(
            appID: appID, expiresAt: now + userData.accessTokenLifetime, revoked: false)
        userData.current[appID] = token
        return .ok(["access_token": .string(token), "expires_in": .int(Self.seconds(userData.accessTokenLifetime))])
    }

    /// Every issued access token stops working (40001); stable_token then issues new ones.
    mutating func expireAccessTokens() {
        for token in userData.tokens.keys { userData.tokens[token]?.revoked = true }
        userData.current.removeAll()
    }

    /// The app an access token belongs to, or WeChat's errcode for it.
    private func app(ofAccessToken token: String?, now: ContinuousClock.Instant) -> Result<String, SimulatorErrcode> {
        guard let token, !token.isEmpty else { return .failure(SimulatorErrcode(41001)) }
        guard let issued = userData.tokens[token], !issued.revoked else { return .failure(SimulatorErrcode(40001)) }
        guard now < issued.expiresAt else { return .failure(SimulatorErrcode(42001)) }
        return .success(issued.appID)
    }

    // MARK: phone numbers

    /// Issues a single-use getPhoneNumber code (5 minutes) for `phone` ("+86 13800138000", "+8613800138000",
    /// "13800138000" or "+1 4155550100").
    mutating func mintPhoneCode(appID: String, user: String, phone: String, now: ContinuousClock.Instant) throws(WeChatSimulatorError) -> String {
        _ = try identity(appID: appID, user: user)
        guard let (country, pure) = Self.parsePhone(phone) else {
            throw WeChatSimulatorError(.invalidArgument, "phone must look like +86 13800138000 or +1 4155550100")
        }
        var code = RandomIdentifiers.code()
        while userData.phoneCodes[code] != nil { code = RandomIdentifiers.code() }
        userData.phoneCodes[code] = SimulatorUserData.PhoneCode(
            appID: appID, user: user, countryCode: country, purePhoneNumber: pure, issuedAt: now, used: false)
        return code
    }

    mutating func phoneNumber(accessToken: String?, body: [String: Any], now: ContinuousClock.Instant) -> SimulatorAnswer {
        userData.phoneNumberCalls += 1
        let appID: String
        switch app(ofAccessToken: accessToken, now: now) {
        case .failure(let failure): return .error(failure.errcode)
        case .success(let app): appID = app
        }
        guard let code = body["code"] as? String, !code.isEmpty else { return .error(47001) }
        guard var issued = userData.phoneCodes[code], issued.appID == appID,
              now - issued.issuedAt <= .seconds(300)
        else { return .error(40029) }
        guard !issued.used else { return .error(40163) }
        issued.used = true
        userData.phoneCodes[code] = issued
        let phoneNumber = issued.countryCode == "86" ? issued.purePhoneNumber : "+\(issued.countryCode) \(issued.purePhoneNumber)"
        return .ok(["phone_info": .object([
            "phoneNumber": .string(phoneNumber),
            "purePhoneNumber": .string(issued.purePhoneNumber),
            "countryCode": .string(issued.countryCode),
            "watermark": .object(["appid": .string(appID), "timestamp": .int(Self.unixSeconds())]),
        ])])
    }

    static func parsePhone(_ phone: String) -> (String, String)? {
        let trimmed = phone.trimmingCharacters(in: .whitespaces)
        let digits = { (s: Substring) in !s.isEmpty && s.allSatisfy { $0.isASCII && $0.isNumber } }
        if trimmed.hasPrefix("+") {
            let rest = trimmed.dropFirst()
            if let space = rest.firstIndex(of: " ") {
                let country = rest[..<space], pure = rest[rest.index(after: space)...]
                guard digits(country), country.count <= 3, digits(pure) else { return nil }
                return (String(country), String(pure))
            }
            guard rest.hasPrefix("86"), digits(rest.dropFirst(2)) else { return nil }
            return ("86", String(rest.dropFirst(2)))
        }
        guard digits(trimmed[...]) else { return nil }
        return ("86", trimmed)
    }

    // MARK: checksession / resetusersessionkey

    mutating func checkSession(parameters: [String: String], now: ContinuousClock.Instant) -> SimulatorAnswer {
        userData.checkSessionCalls += 1
        switch signedUser(parameters: parameters, now: now) {
        case .failure(let failure): return .error(failure.errcode)
        case .success: return .ok([:])
        }
    }

    mutating func resetSessionKey(parameters: [String: String], now: ContinuousClock.Instant) -> SimulatorAnswer {
        userData.resetSessionKeyCalls += 1
        switch signedUser(parameters: parameters, now: now) {
        case .failure(let failure): return .error(failure.errcode)
        case .success(let key):
            guard var user = users[key] else { return .error(40003) }
            user.sessionKey = RandomIdentifiers.sessionKey()
            users[key] = user
            return .ok(["openid": .string(user.openid), "session_key": .string(user.sessionKey)])
        }
    }

    /// Checks access token, openid and `signature = hex(HMAC-SHA256(session_key, ""))` against the user's
    /// current key (87009 when it is another key).
    private func signedUser(parameters: [String: String], now: ContinuousClock.Instant) -> Result<UserKey, SimulatorErrcode> {
        let appID: String
        switch app(ofAccessToken: parameters["access_token"], now: now) {
        case .failure(let failure): return .failure(failure)
        case .success(let app): appID = app
        }
        guard let openid = parameters["openid"], !openid.isEmpty,
              let (key, user) = users.first(where: { $0.key.appID == appID && $0.value.openid == openid }).map({ ($0.key, $0.value) })
        else { return .failure(SimulatorErrcode(40003)) }
        guard parameters["sig_method"] == "hmac_sha256", let signature = parameters["signature"] else {
            return .failure(SimulatorErrcode(87009))
        }
        guard let raw = Data(base64Encoded: user.sessionKey),
              let expected = try? WeChatUserData.sessionKeySignature(sessionKey: Array(raw)),
              constantTimeEquals(Array(expected.utf8), Array(signature.utf8))
        else { return .failure(SimulatorErrcode(87009)) }
        return .success(key)
    }

    // MARK: encrypted user data

    /// What WeChat hands the mini program for `wx.getUserInfo`: `data` plus a watermark, encrypted with the user's
    /// current session_key under a random iv; rawData is `data` without the watermark, signed.
    mutating func encryptUserData(
        appID: String, user: String, data: [String: Any], watermarkAppID: String? = nil, timestamp: Int64? = nil
    ) throws(WeChatSimulatorError) -> WeChatEncryptedUserData {
        let identity = try identity(appID: appID, user: user)
        guard let key = Data(base64Encoded: identity.sessionKey).map(Array.init), key.count == 16 else {
            throw WeChatSimulatorError(.invalidFixture, "the user's session_key is not 16 bytes of base64")
        }
        var full = data
        full["watermark"] = ["appid": watermarkAppID ?? appID, "timestamp": timestamp ?? Self.unixSeconds()]
        guard JSONSerialization.isValidJSONObject(full),
              let plaintext = try? JSONSerialization.data(withJSONObject: full, options: [.sortedKeys]),
              let raw = try? JSONSerialization.data(withJSONObject: data, options: [.sortedKeys])
        else { throw WeChatSimulatorError(.invalidArgument, "data must be a JSON object") }
        var generator = SystemRandomNumberGenerator()
        let iv = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let rawData = String(decoding: raw, as: UTF8.self)
        do {
            return WeChatEncryptedUserData(
                encryptedData: try WeChatUserData.encrypt(Array(plaintext), sessionKey: key, iv: iv),
                iv: Data(iv).base64EncodedString(),
                rawData: rawData,
                signature: try WeChatUserData.signature(rawData: rawData, sessionKey: key)
            )
        } catch {
            throw WeChatSimulatorError(.invalidArgument, "encryption failed: \(error)")
        }
    }

    static func unixSeconds() -> Int64 {
        Int64(Date().timeIntervalSince1970)
    }

    private static func seconds(_ duration: Duration) -> Int64 {
        max(duration.components.seconds, 0)
    }
}

struct SimulatorErrcode: Error, Sendable {
    var errcode: Int32
    init(_ errcode: Int32) { self.errcode = errcode }
}
