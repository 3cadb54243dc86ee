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

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        var result = self
        while result.hasSuffix(suffix) { result.removeLast(suffix.count) }
        return result
    }
}
