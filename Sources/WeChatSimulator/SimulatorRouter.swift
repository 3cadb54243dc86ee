import Logging
import NIOHTTP1

/// A fully received request, as the router sees it.
struct SimulatorHTTPRequest: Sendable {
    var method: HTTPMethod
    var uri: String
    var body: [UInt8]
}

/// The answer to send, after `delay`.
struct SimulatorHTTPResponse: Sendable {
    var status: HTTPResponseStatus
    var body: [UInt8]
    var delay: Duration = .zero

    static func json(_ status: HTTPResponseStatus, _ value: some Encodable, delay: Duration = .zero) -> Self {
        SimulatorHTTPResponse(status: status, body: SimulatorWire.encode(value), delay: delay)
    }

    static func error(_ status: HTTPResponseStatus, _ message: String) -> Self {
        .json(status, SimulatorWire.ErrorResponse(error: message))
    }
}

/// Maps requests to the WeChat API (`/sns/jscode2session`) and the control API (`/sim/...`).
struct SimulatorRouter: Sendable {
    let store: SimulatorStore
    let logger: Logger

    /// The longest hang or latency a caller may ask for.
    static let maximumDelayMilliseconds = 600_000
    /// The most calls one fault may cover.
    static let maximumFaultCount = 1_000_000

    func respond(to request: SimulatorHTTPRequest) -> SimulatorHTTPResponse {
        let (path, query) = Self.split(request.uri)
        if let answer = self.respondUserData(to: request, path: path, query: query) {
            return answer
        }
        switch (request.method, path) {
        case (.GET, "/sns/jscode2session"):
            return self.jscode2session(query: query)
        case (.POST, "/sim/code"):
            return self.mintCode(body: request.body)
        case (.POST, "/sim/fault"):
            return self.injectFault(body: request.body)
        case (.POST, "/sim/latency"):
            return self.setLatency(body: request.body)
        case (.POST, "/sim/reset-faults"):
            self.store.withState { $0.resetFaults() }
            return .json(.ok, SimulatorWire.OKResponse())
        case (.GET, "/sim/stats"):
            let stats = self.store.withState { $0.stats }
            return .json(.ok, Self.wire(stats))
        case (_, "/sns/jscode2session"), (_, "/sim/code"), (_, "/sim/fault"), (_, "/sim/latency"),
            (_, "/sim/reset-faults"), (_, "/sim/stats"):
            return .error(.methodNotAllowed, "method not allowed")
        default:
            return .error(.notFound, "not found")
        }
    }

    private func jscode2session(query: Substring) -> SimulatorHTTPResponse {
        guard let parameters = QueryString.parse(query) else {
            return .error(.badRequest, "malformed query string")
        }
        let now = ContinuousClock.now
        let (reply, delay) = self.store.withState { $0.exchange(parameters: parameters, now: now) }
        switch reply {
        case .identity(let user):
            self.logger.debug("jscode2session ok", metadata: ["appid": "\(user.appID)", "user": "\(user.user)"])
            let body = SimulatorWire.SessionResponse(openid: user.openid, sessionKey: user.sessionKey, unionid: user.unionid)
            return .json(.ok, body, delay: delay)
        case .error(let errcode, let errmsg):
            self.logger.debug(
                "jscode2session error",
                metadata: ["appid": "\(parameters["appid"] ?? "")", "errcode": "\(errcode)"]
            )
            let body = SimulatorWire.WeChatErrorResponse(
                errcode: errcode,
                errmsg: "\(errmsg), rid: \(RandomIdentifiers.rid())"
            )
            return .json(.ok, body, delay: delay)
        }
    }

    private func mintCode(body: [UInt8]) -> SimulatorHTTPResponse {
        guard let request = SimulatorWire.decode(SimulatorWire.MintCodeRequest.self, from: body) else {
            return .error(.badRequest, "expected {\"appid\":..,\"user\":..} with an optional \"code\"")
        }
        let now = ContinuousClock.now
        do {
            let minted = try self.store.withState { (state: inout SimulatorState) throws(WeChatSimulatorError) in
                try state.mintCode(appID: request.appid, user: request.user, code: request.code, now: now)
            }
            return .json(.ok, SimulatorWire.MintCodeResponse(code: minted.code, openid: minted.user.openid))
        } catch {
            switch error.code {
            case .unknownApp: return .error(.notFound, error.message)
            case .codeAlreadyIssued: return .error(.conflict, error.message)
            default: return .error(.badRequest, error.message)
            }
        }
    }

    private func injectFault(body: [UInt8]) -> SimulatorHTTPResponse {
        guard let request = SimulatorWire.decode(SimulatorWire.FaultRequest.self, from: body) else {
            return .error(.badRequest, "expected {\"errcode\":..} and/or {\"hang_ms\":..} with an optional \"count\"")
        }
        let count = request.count ?? 1
        let hang = request.hangMilliseconds ?? 0
        guard request.errcode != nil || request.hangMilliseconds != nil,
            request.errcode != 0,
            (1...Self.maximumFaultCount).contains(count),
            (0...Self.maximumDelayMilliseconds).contains(hang)
        else {
            return .error(.badRequest, "a fault needs a non-zero errcode or hang_ms 0...600000, count 1...1000000")
        }
        let fault = SimulatorState.Fault(
            errcode: request.errcode,
            errmsg: request.errmsg,
            hang: .milliseconds(hang),
            remaining: count
        )
        self.store.withState { $0.inject(fault) }
        self.logger.debug("fault injected", metadata: ["errcode": "\(request.errcode ?? 0)", "hang_ms": "\(hang)", "count": "\(count)"])
        return .json(.ok, SimulatorWire.OKResponse())
    }

    private func setLatency(body: [UInt8]) -> SimulatorHTTPResponse {
        guard let request = SimulatorWire.decode(SimulatorWire.LatencyRequest.self, from: body),
            (0...Self.maximumDelayMilliseconds).contains(request.ms)
        else {
            return .error(.badRequest, "expected {\"ms\": 0...600000}")
        }
        self.store.withState { $0.setLatency(.milliseconds(request.ms)) }
        return .json(.ok, SimulatorWire.OKResponse())
    }

    private static func wire(_ stats: WeChatSimulatorStats) -> SimulatorWire.StatsResponse {
        SimulatorWire.StatsResponse(
            jscode2sessionCalls: stats.jscode2sessionCalls,
            codesMinted: stats.codesMinted,
            codesExchanged: stats.codesExchanged,
            faultsServed: stats.faultsServed,
            stableTokenCalls: stats.stableTokenCalls,
            phoneNumberCalls: stats.phoneNumberCalls,
            checkSessionCalls: stats.checkSessionCalls,
            resetSessionKeyCalls: stats.resetSessionKeyCalls
        )
    }

    /// Splits a request target into path and query.
    static func split(_ uri: String) -> (path: Substring, query: Substring) {
        guard let mark = uri.firstIndex(of: "?") else { return (uri[...], "") }
        return (uri[..<mark], uri[uri.index(after: mark)...])
    }
}
