import AsyncHTTPClient
import Foundation
import NIOCore
import WXAuthBenchCore
import WXAuthClient

/// Sessions and login codes for a wxauth run, made the way a real client would: the simulator mints a code
/// (what `wx.login()` returns), LOGIN exchanges it through WeChat's jscode2session (simulated) for a token.
struct SimulatorSetup {
    var simulatorURL: String
    var appID: String
    var concurrency = 32

    /// `count` fresh codes, one simulated user each.
    func mintCodes(_ count: Int, prefix: String) async throws -> [String] {
        guard count > 0 else { return [] }
        let base = simulatorURL.hasSuffix("/") ? String(simulatorURL.dropLast()) : simulatorURL
        return try await withThrowingTaskGroup(of: [String].self) { group in
            let workers = min(concurrency, count)
            for worker in 0..<workers {
                group.addTask {
                    var codes: [String] = []
                    var index = worker
                    while index < count {
                        codes.append(try await mint(base: base, user: "\(prefix)-\(index)"))
                        index += workers
                    }
                    return codes
                }
            }
            var all: [String] = []
            for try await codes in group { all.append(contentsOf: codes) }
            return all
        }
    }

    private func mint(base: String, user: String) async throws -> String {
        var request = HTTPClientRequest(url: base + "/sim/code")
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: ["appid": appID, "user": user])))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 64 * 1024)
        guard response.status == .ok,
              let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
              let code = object["code"] as? String
        else {
            throw LoadError.setup("the simulator at \(simulatorURL) did not mint a code (HTTP \(response.status.code))")
        }
        return code
    }

    /// Logs `count` simulated users in and returns their tokens.
    func loginSessions(_ count: Int, host: String, port: Int) async throws -> KeySet {
        let codes = try await mintCodes(count, prefix: "bench-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let clients = try await withThrowingTaskGroup(of: WXAuthClient.self) { group in
            for _ in 0..<min(8, count) { group.addTask { try await WXAuthClient.connect(host: host, port: port) } }
            var clients: [WXAuthClient] = []
            for try await client in group { clients.append(client) }
            return clients
        }
        defer { for client in clients { Task { try? await client.close() } } }
        let tokens = try await withThrowingTaskGroup(of: [String].self) { group in
            let workers = min(concurrency, count)
            for worker in 0..<workers {
                let client = clients[worker % clients.count]
                group.addTask {
                    var tokens: [String] = []
                    var index = worker
                    while index < count {
                        tokens.append(try await client.login(appID: appID, code: codes[index]).token)
                        index += workers
                    }
                    return tokens
                }
            }
            var all: [String] = []
            for try await tokens in group { all.append(contentsOf: tokens) }
            return all
        }
        var set = KeySet(keyLength: tokens.first?.utf8.count ?? 44)
        for token in tokens { set.append(token.utf8) }
        return set
    }
}
