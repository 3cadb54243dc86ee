import AsyncHTTPClient
import Logging

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// WeChat's `phone_info`, with its watermark (the caller checks the appid).
public struct WeChatPhoneInfo: Sendable, Hashable {
    public var phoneNumber: String
    public var purePhoneNumber: String
    public var countryCode: String
    public var watermarkAppID: String
    public var watermarkTimestamp: Int64

    public init(phoneNumber: String, purePhoneNumber: String, countryCode: String, watermarkAppID: String, watermarkTimestamp: Int64) {
        self.phoneNumber = phoneNumber
        self.purePhoneNumber = purePhoneNumber
        self.countryCode = countryCode
        self.watermarkAppID = watermarkAppID
        self.watermarkTimestamp = watermarkTimestamp
    }
}

/// What the user-data operations need from WeChat beyond jscode2session. Throws `WeChatError` only.
public protocol WeChatUserDataCalling: Sendable {
    /// `wxa/business/getuserphonenumber` with the app's access token.
    func phoneNumber(appID: String, secret: String, code: String) async throws(WeChatError) -> WeChatPhoneInfo
    /// `wxa/checksession`: true when `signature` (HMAC-SHA256 of "" under the session_key) matches the user's
    /// current key, false when WeChat answers 87009.
    func checkSessionKey(appID: String, secret: String, openid: String, signature: String) async throws(WeChatError) -> Bool
    /// `wxa/resetusersessionkey`: the user's new session_key (base64), the old one stops working.
    func resetSessionKey(appID: String, secret: String, openid: String, signature: String) async throws(WeChatError) -> String
}

/// The real `WeChatUserDataCalling` over AsyncHTTPClient, with one `AccessTokenManager` (stable_token) shared by
/// all calls. Each HTTP call has its own deadline; 40001/42001 fetch a new access token and retry once.
/// Logs appid, operation, errcode and latency; never the access token, secret, code, openid or any key.
public final class WeChatUserDataClient: WeChatUserDataCalling {
    private let http: WeChatHTTP
    private let logger: Logger
    /// The app access tokens every call uses (fetched from `stable_token`).
    public let accessTokens: AccessTokenManager

    public init(
        baseURL: String = "https://api.weixin.qq.com", httpClient: HTTPClient, timeout: Duration = .seconds(5),
        accessTokenSharing: (any AccessTokenSharing)? = nil,
        logger: Logger, now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        var trimmed = Substring(baseURL)
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        self.http = WeChatHTTP(baseURL: String(trimmed), httpClient: httpClient, timeout: timeout)
        self.logger = logger
        self.accessTokens = AccessTokenManager(
            fetcher: StableTokenFetcher(http: http, logger: logger), sharing: accessTokenSharing, logger: logger, now: now)
    }

    // MARK: getuserphonenumber

    private struct PhoneAnswer: Decodable {
        struct Info: Decodable {
            struct Watermark: Decodable {
                var appid: String
                var timestamp: Int64?
            }
            var phoneNumber: String
            var purePhoneNumber: String
            var countryCode: String
            var watermark: Watermark
        }
        var phone_info: Info
    }

    public func phoneNumber(appID: String, secret: String, code: String) async throws(WeChatError) -> WeChatPhoneInfo {
        let body = (try? JSONEncoder().encode(["code": code])).map { Array($0) } ?? []
        let answer = try await logged("getuserphonenumber", appID: appID) { () throws(WeChatError) in
            try await accessTokens.withToken(appID: appID, secret: secret) { (token: String) throws(WeChatError) in
                try WeChatHTTP.decode(PhoneAnswer.self, from: try await http.perform(
                    method: .POST, path: "/wxa/business/getuserphonenumber", query: [("access_token", token)], json: body))
            }
        }
        let info = answer.phone_info
        return WeChatPhoneInfo(
            phoneNumber: info.phoneNumber, purePhoneNumber: info.purePhoneNumber, countryCode: info.countryCode,
            watermarkAppID: info.watermark.appid, watermarkTimestamp: info.watermark.timestamp ?? 0
        )
    }

    // MARK: checksession / resetusersessionkey

    private struct Empty: Decodable {}

    private struct ResetAnswer: Decodable {
        var session_key: String
    }

    public func checkSessionKey(appID: String, secret: String, openid: String, signature: String) async throws(WeChatError) -> Bool {
        do {
            _ = try await logged("checksession", appID: appID) { () throws(WeChatError) in
                try await accessTokens.withToken(appID: appID, secret: secret) { (token: String) throws(WeChatError) in
                    try WeChatHTTP.decode(Empty.self, from: try await http.perform(
                        method: .GET, path: "/wxa/checksession", query: Self.signed(token, openid, signature)))
                }
            }
            return true
        } catch {
            if case .rejected(87009, _) = error { return false }
            throw error
        }
    }

    public func resetSessionKey(appID: String, secret: String, openid: String, signature: String) async throws(WeChatError) -> String {
        let answer = try await logged("resetusersessionkey", appID: appID) { () throws(WeChatError) in
            try await accessTokens.withToken(appID: appID, secret: secret) { (token: String) throws(WeChatError) in
                try WeChatHTTP.decode(ResetAnswer.self, from: try await http.perform(
                    method: .GET, path: "/wxa/resetusersessionkey", query: Self.signed(token, openid, signature)))
            }
        }
        return answer.session_key
    }

    private static func signed(_ token: String, _ openid: String, _ signature: String) -> [(name: String, value: String)] {
        [("access_token", token), ("openid", openid), ("signature", signature), ("sig_method", "hmac_sha256")]
    }

    private func logged<T: Sendable>(
        _ operation: String, appID: String, _ body: () async throws(WeChatError) -> T
    ) async throws(WeChatError) -> T {
        try await loggedWeChatCall(operation, appID: appID, logger: logger, body)
    }
}

/// `POST /cgi-bin/stable_token` (normal mode: WeChat returns the current token while it is valid).
struct StableTokenFetcher: AccessTokenFetching {
    let http: WeChatHTTP
    let logger: Logger

    private struct StableTokenRequest: Encodable {
        var grant_type = "client_credential"
        var appid: String
        var secret: String
        var force_refresh = false
    }

    private struct StableTokenAnswer: Decodable {
        var access_token: String
        var expires_in: Int64
    }

    func fetchAccessToken(appID: String, secret: String) async throws(WeChatError) -> AccessToken {
        let body = (try? JSONEncoder().encode(StableTokenRequest(appid: appID, secret: secret))).map { Array($0) } ?? []
        let answer = try await loggedWeChatCall("stable_token", appID: appID, logger: logger) { () throws(WeChatError) in
            try WeChatHTTP.decode(StableTokenAnswer.self,
                                  from: try await http.perform(method: .POST, path: "/cgi-bin/stable_token", query: [], json: body))
        }
        guard !answer.access_token.isEmpty, answer.expires_in > 0 else {
            throw .unavailable(errcode: 0, message: "stable_token answer without a token")
        }
        return AccessToken(value: answer.access_token, lifetime: .seconds(answer.expires_in))
    }
}

/// One log line per WeChat call: appid, outcome, errcode, latency. Nothing secret (no token, secret, code, openid).
func loggedWeChatCall<T: Sendable>(
    _ operation: String, appID: String, logger: Logger, _ body: () async throws(WeChatError) -> T
) async throws(WeChatError) -> T {
    func metadata(_ started: ContinuousClock.Instant) -> Logger.Metadata {
        let elapsed = ContinuousClock.now - started
        return ["wechat.appid": "\(appID)", "wechat.latency_ms": "\(elapsed.wholeMilliseconds)"]
    }
    let started = ContinuousClock.now
    do {
        let value = try await body()
        logger.debug("\(operation) succeeded", metadata: metadata(started))
        return value
    } catch {
        var meta = metadata(started)
        if let errcode = error.errcode { meta["wechat.errcode"] = "\(errcode)" }
        meta["wechat.failure"] = "\(error)"
        if case .rejected(87009, _) = error {
            logger.debug("\(operation): session_key not current", metadata: meta)
        } else {
            logger.info("\(operation) failed", metadata: meta)
        }
        throw error
    }
}
