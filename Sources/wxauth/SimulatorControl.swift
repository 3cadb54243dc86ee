import AsyncHTTPClient
import Foundation
import NIOCore

/// Asks a WeChat simulator (`wechat-sim`, or the one inside `wxauthd --dev`) for a fresh login code, as
/// `wx.login()` would give a real mini program.
enum SimulatorControl {
    static func mintCode(simulatorURL: String, appID: String, user: String) async throws -> String {
        var request = HTTPClientRequest(url: simulatorURL.trimmingSuffix("/") + "/sim/code")
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        let body = try JSONSerialization.data(withJSONObject: ["appid": appID, "user": user])
        request.body = .bytes(ByteBuffer(bytes: body))
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
            bytes = try await response.body.collect(upTo: 64 * 1024)
        } catch {
            throw CLIFailure.simulator("cannot reach the WeChat simulator at \(simulatorURL) (is `wxauthd --dev` running?): \(error)")
        }
        guard response.status == .ok,
              let object = try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView)) as? [String: Any],
              let code = object["code"] as? String
        else {
            throw CLIFailure.simulator("the simulator refused to mint a code (HTTP \(response.status.code)): \(String(buffer: bytes))")
        }
        return code
    }
}

extension SimulatorControl {
    /// POSTs `body` to a simulator control endpoint and returns the JSON object it answers.
    static func post(simulatorURL: String, path: String, body: [String: Any]) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: simulatorURL.trimmingSuffix("/") + path)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
            bytes = try await response.body.collect(upTo: 256 * 1024)
        } catch {
            throw CLIFailure.simulator("cannot reach the WeChat simulator at \(simulatorURL) (is `wxauthd --dev` running?): \(error)")
        }
        guard response.status == .ok,
              let object = try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView)) as? [String: Any]
        else {
            throw CLIFailure.simulator("the simulator refused \(path) (HTTP \(response.status.code)): \(String(buffer: bytes))")
        }
        return object
    }

    /// What wx.getUserInfo returns: encryptedData, iv, rawData, signature.
    static func encryptUserData(simulatorURL: String, appID: String, user: String, data: [String: Any]) async throws -> [String: String] {
        let object = try await post(simulatorURL: simulatorURL, path: "/sim/encrypt", body: ["appid": appID, "user": user, "data": data])
        return object.compactMapValues { $0 as? String }
    }

    /// A getPhoneNumber button code.
    static func phoneCode(simulatorURL: String, appID: String, user: String, phone: String) async throws -> String {
        let object = try await post(simulatorURL: simulatorURL, path: "/sim/phone-code", body: ["appid": appID, "user": user, "phone": phone])
        guard let code = object["code"] as? String else { throw CLIFailure.simulator("the simulator returned no phone code") }
        return code
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        var result = self
        while result.hasSuffix(suffix) { result.removeLast(suffix.count) }
        return result
    }
}
