import Foundation

/// The user-data endpoints (stable_token, getuserphonenumber, checksession, resetusersessionkey) and their
/// control endpoints (/sim/encrypt, /sim/phone-code, /sim/expire-access-tokens).
extension SimulatorRouter {
    func respondUserData(to request: SimulatorHTTPRequest, path: Substring, query: Substring) -> SimulatorHTTPResponse? {
        switch (request.method, path) {
        case (.POST, "/cgi-bin/stable_token"):
            guard let body = Self.jsonObject(request.body) else { return wechat(.error(47001)) }
            let now = ContinuousClock.now
            return wechat(store.withState { $0.stableToken(body: body, now: now) })
        case (.POST, "/wxa/business/getuserphonenumber"):
            guard let parameters = QueryString.parse(query) else { return .error(.badRequest, "malformed query string") }
            guard let body = Self.jsonObject(request.body) else { return wechat(.error(47001)) }
            let now = ContinuousClock.now
            return wechat(store.withState { $0.phoneNumber(accessToken: parameters["access_token"], body: body, now: now) })
        case (.GET, "/wxa/checksession"), (.GET, "/wxa/resetusersessionkey"):
            guard let parameters = QueryString.parse(query) else { return .error(.badRequest, "malformed query string") }
            let now = ContinuousClock.now
            let reset = path == "/wxa/resetusersessionkey"
            return wechat(store.withState {
                reset ? $0.resetSessionKey(parameters: parameters, now: now) : $0.checkSession(parameters: parameters, now: now)
            })
        case (.POST, "/sim/encrypt"):
            guard let body = Self.jsonObject(request.body), let appID = body["appid"] as? String,
                  let user = body["user"] as? String, let data = body["data"] as? [String: Any]
            else { return .error(.badRequest, "expected {\"appid\":..,\"user\":..,\"data\":{...}}") }
            let request = EncryptRequest(appID: appID, user: user, data: data)
            do {
                let encrypted = try store.withState { (state: inout SimulatorState) throws(WeChatSimulatorError) in
                    try state.encryptUserData(appID: request.appID, user: request.user, data: request.data)
                }
                return .json(.ok, ["encryptedData": encrypted.encryptedData, "iv": encrypted.iv,
                                   "rawData": encrypted.rawData, "signature": encrypted.signature])
            } catch {
                return .error(error.code == .unknownApp ? .notFound : .badRequest, error.message)
            }
        case (.POST, "/sim/phone-code"):
            guard let body = Self.jsonObject(request.body), let appID = body["appid"] as? String,
                  let user = body["user"] as? String, let phone = body["phone"] as? String
            else { return .error(.badRequest, "expected {\"appid\":..,\"user\":..,\"phone\":\"+86 13800138000\"}") }
            let now = ContinuousClock.now
            do {
                let code = try store.withState { (state: inout SimulatorState) throws(WeChatSimulatorError) in
                    try state.mintPhoneCode(appID: appID, user: user, phone: phone, now: now)
                }
                return .json(.ok, ["code": code])
            } catch {
                return .error(error.code == .unknownApp ? .notFound : .badRequest, error.message)
            }
        case (.POST, "/sim/expire-access-tokens"):
            store.withState { $0.expireAccessTokens() }
            return .json(.ok, SimulatorWire.OKResponse())
        case (_, "/cgi-bin/stable_token"), (_, "/wxa/business/getuserphonenumber"), (_, "/wxa/checksession"),
             (_, "/wxa/resetusersessionkey"), (_, "/sim/encrypt"), (_, "/sim/phone-code"), (_, "/sim/expire-access-tokens"):
            return .error(.methodNotAllowed, "method not allowed")
        default:
            return nil
        }
    }

    /// `[String: Any]` is not Sendable; this box carries it into the state lock (used there only).
    private struct EncryptRequest: @unchecked Sendable {
        var appID: String
        var user: String
        var data: [String: Any]
    }

    private func wechat(_ answer: SimulatorAnswer) -> SimulatorHTTPResponse {
        switch answer {
        case .error(let errcode):
            logger.debug("wechat error", metadata: ["errcode": "\(errcode)"])
            return .json(.ok, SimulatorWire.WeChatErrorResponse(
                errcode: errcode, errmsg: "\(SimulatorState.errmsg(for: errcode)), rid: \(RandomIdentifiers.rid())"))
        case .ok(var fields):
            fields["errcode"] = .int(0)
            fields["errmsg"] = .string("ok")
            return .json(.ok, fields)
        }
    }

    private static func jsonObject(_ bytes: [UInt8]) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
    }
}
