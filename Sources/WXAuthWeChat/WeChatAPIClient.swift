import AsyncHTTPClient
import Logging
import NIOCore
import NIOPosix

/// The real `CodeExchanging`: calls WeChat's `GET /sns/jscode2session` over AsyncHTTPClient.
///
/// One call, no retries (a code is single-use, so retrying is a policy decision for a separate layer).
/// Never logs the app secret, the code or the session_key; logs appid, errcode, errmsg, WeChat's rid and latency.
public struct WeChatAPIClient: CodeExchanging {
    /// Scheme, host and optional port of the WeChat API, without a trailing path (e.g. "https://api.weixin.qq.com").
    public let baseURL: String
    /// Deadline for one whole call: connect, request, response head and body. With a pool, it starts once the
    /// call holds a connection slot (waiting for one is bounded by the same duration, separately).
    public let timeout: Duration

    private let httpClient: HTTPClient
    private let slots: CallSlots?
    private let logger: Logger

    /// The largest answer body accepted (real answers are about 150 bytes).
    static let maximumBodyBytes = 64 * 1024

    /// - Parameters:
    ///   - baseURL: where WeChat lives; point it at a `WeChatSimulator` in tests.
    ///   - httpClient: a shared, keep-alive `HTTPClient`; the caller owns its lifecycle (and shuts it down).
    ///   - timeout: the per-call deadline; when it passes the call fails with `.unavailable(errcode: 0, ...)`.
    ///   - logger: receives one line per call.
    public init(
        baseURL: String = "https://api.weixin.qq.com",
        httpClient: HTTPClient,
        timeout: Duration = .seconds(5),
        logger: Logger
    ) {
        self.init(baseURL: baseURL, httpClient: httpClient, timeout: timeout, logger: logger, slots: nil)
    }

    /// A client that never queues inside AsyncHTTPClient: calls beyond the pool's connections wait for a slot
    /// first, and that wait neither counts against `timeout` nor, when it runs out, against WeChat's health.
    public init(
        baseURL: String = "https://api.weixin.qq.com", pool: WeChatConnectionPool, timeout: Duration = .seconds(5),
        logger: Logger
    ) {
        self.init(baseURL: baseURL, httpClient: pool.httpClient, timeout: timeout, logger: logger, slots: pool.slots)
    }

    private init(baseURL: String, httpClient: HTTPClient, timeout: Duration, logger: Logger, slots: CallSlots?) {
        var trimmed = Substring(baseURL)
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        self.baseURL = String(trimmed)
        self.httpClient = httpClient
        self.slots = slots
        self.timeout = timeout
        self.logger = logger
    }

    /// Exchanges a `wx.login` code; see `CodeExchanging`.
    public func exchange(appID: String, secret: String, code: String) async throws(WeChatError) -> WeChatIdentity {
        let clock = ContinuousClock()
        let started = clock.now
        let answer = await self.call(url: self.requestURL(appID: appID, secret: secret, code: code), clock: clock)
        let latency = clock.now - started
        self.log(answer, appID: appID, latency: latency)
        return try answer.result.get()
    }

    /// `{baseURL}/sns/jscode2session?...` with every query value percent-encoded.
    func requestURL(appID: String, secret: String, code: String) -> String {
        let query = QueryEncoding.query([
            ("appid", appID),
            ("secret", secret),
            ("js_code", code),
            ("grant_type", "authorization_code"),
        ])
        return "\(self.baseURL)/sns/jscode2session?\(query)"
    }

    /// Takes a connection slot (when pooled), then runs the request and reads the body, racing both against
    /// `timeout`.
    private func call(url: String, clock: ContinuousClock) async -> Jscode2SessionAnswer {
        guard let slots else { return await self.send(url: url, clock: clock) }
        guard await slots.acquire(waitingAtMost: self.timeout) else {
            let message = "all \(slots.count) WeChat connections stayed busy for \(self.timeout); not sent"
            return Jscode2SessionAnswer(result: .failure(.overloaded(message: message)), errcode: nil, errmsg: nil, rid: nil)
        }
        defer { slots.release() }
        return await self.send(url: url, clock: clock)
    }

    private func send(url: String, clock: ContinuousClock) async -> Jscode2SessionAnswer {
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        request.headers.add(name: "Accept", value: "application/json")
        let deadline = clock.now + self.timeout
        let nioDeadline = NIODeadline.now() + TimeAmount(self.timeout)
        let prepared = request
        let client = self.httpClient
        do {
            return try await withThrowingTaskGroup(of: Jscode2SessionAnswer.self) { group in
                group.addTask {
                    // No logger for AsyncHTTPClient: at trace level it logs URLs and body bytes (secret, code, session_key).
                    let response = try await client.execute(prepared, deadline: nioDeadline)
                    let body = try await response.body.collect(upTo: Self.maximumBodyBytes)
                    return Jscode2SessionAnswer.interpret(status: response.status.code, body: Array(body.readableBytesView))
                }
                group.addTask {
                    try await Task.sleep(until: deadline, clock: clock)
                    return .unavailable("timed out after \(self.timeout)")
                }
                defer { group.cancelAll() }
                guard let first = try await group.next() else { return .unavailable("no answer") }
                return first
            }
        } catch {
            if Self.failedBeforeSending(error) {
                return Jscode2SessionAnswer(
                    result: .failure(.notSent(message: Self.describe(error))), errcode: nil, errmsg: nil, rid: nil)
            }
            return .unavailable(Self.describe(error))
        }
    }

    /// Whether `error` means no byte of the request reached WeChat (so the code was not consumed).
    static func failedBeforeSending(_ error: any Error) -> Bool {
        if let error = error as? HTTPClientError, error == .connectTimeout { return true }
        if error is NIOConnectionError { return true }
        if case ChannelError.connectTimeout = error { return true }
        if let error = error as? IOError {
            return [ECONNREFUSED, ENETUNREACH, EHOSTUNREACH].contains(error.errnoCode)
        }
        return false
    }

    /// A short description of a transport failure: no URL (it holds the secret and the code), no payload.
    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .writeTimeout, .connectTimeout, .getConnectionFromPoolTimeout:
                return "timed out (\(error.shortDescription))"
            case .cancelled:
                return "cancelled"
            default:
                return "HTTP client error (\(error.shortDescription))"
            }
        }
        if error is CancellationError {
            return "cancelled"
        }
        if error is NIOTooManyBytesError {
            return "answer body too large"
        }
        return "connection error (\(String(describing: type(of: error))))"
    }

    private func log(_ answer: Jscode2SessionAnswer, appID: String, latency: Duration) {
        var metadata: Logger.Metadata = [
            LogKey.appID: "\(appID)",
            LogKey.latencyMilliseconds: "\(latency.wholeMilliseconds)",
        ]
        if let errcode = answer.errcode { metadata[LogKey.errcode] = "\(errcode)" }
        if let errmsg = answer.errmsg, !errmsg.isEmpty { metadata[LogKey.errmsg] = "\(errmsg)" }
        if let rid = answer.rid { metadata[LogKey.rid] = "\(rid)" }
        switch answer.result {
        case .success:
            self.logger.debug("jscode2session succeeded", metadata: metadata)
        case .failure(.rejected):
            self.logger.info("jscode2session rejected", metadata: metadata)
        case .failure(.rateLimited):
            self.logger.warning("jscode2session rate limited", metadata: metadata)
        case .failure(.unavailable(_, let message)), .failure(.notSent(let message)), .failure(.overloaded(let message)):
            metadata[LogKey.failure] = "\(message)"
            self.logger.warning("jscode2session unavailable", metadata: metadata)
        }
    }


    /// Logger metadata keys, in one place.
    enum LogKey {
        static let appID = "wechat.appid"
        static let errcode = "wechat.errcode"
        static let errmsg = "wechat.errmsg"
        static let rid = "wechat.rid"
        static let latencyMilliseconds = "wechat.latency_ms"
        static let failure = "wechat.failure"
    }
}
