import AsyncHTTPClient
import NIOCore
import NIOHTTP1

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One WeChat HTTP call with a deadline, and the errcode rules the user-data endpoints share. URLs carry the
/// access token and the app secret travels in bodies: neither is ever logged or put in an error message.
struct WeChatHTTP: Sendable {
    let baseURL: String
    let httpClient: HTTPClient
    let timeout: Duration

    static let maximumBodyBytes = 64 * 1024

    /// The common envelope of WeChat answers.
    struct Envelope: Decodable {
        var errcode: Int64?
        var errmsg: String?
    }

    /// Sends the request and returns the body of an HTTP 200 answer; transport failures, timeouts and other statuses
    /// throw `WeChatError` (`.notSent` when nothing reached WeChat).
    func perform(method: HTTPMethod, path: String, query: [(name: String, value: String)], json: [UInt8]? = nil)
        async throws(WeChatError) -> [UInt8]
    {
        var url = baseURL + path
        if !query.isEmpty { url += "?" + QueryEncoding.query(query) }
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: json))
        }
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        let nioDeadline = NIODeadline.now() + TimeAmount(timeout)
        let prepared = request
        let client = httpClient
        let timeout = timeout
        let outcome: Result<(UInt, [UInt8]), WeChatError>
        do {
            outcome = try await withThrowingTaskGroup(of: Result<(UInt, [UInt8]), WeChatError>.self) { group in
                group.addTask {
                    let response = try await client.execute(prepared, deadline: nioDeadline)
                    let body = try await response.body.collect(upTo: Self.maximumBodyBytes)
                    return .success((response.status.code, Array(body.readableBytesView)))
                }
                group.addTask {
                    try await Task.sleep(until: deadline, clock: clock)
                    return .failure(.unavailable(errcode: 0, message: "timed out after \(timeout)"))
                }
                defer { group.cancelAll() }
                guard let first = try await group.next() else {
                    return .failure(.unavailable(errcode: 0, message: "no answer"))
                }
                return first
            }
        } catch {
            if WeChatAPIClient.failedBeforeSending(error) { throw .notSent(message: WeChatAPIClient.describe(error)) }
            throw .unavailable(errcode: 0, message: WeChatAPIClient.describe(error))
        }
        let (status, body) = try outcome.get()
        guard status == 200 else { throw .unavailable(errcode: 0, message: "HTTP status \(status)") }
        return body
    }

    /// Decodes `body` as `T` after applying WeChat's errcode rules: -1 busy, 45009/45011 quota, any other
    /// non-zero errcode a rejection (40001 and 42001 included; the access-token layer retries those).
    static func decode<T: Decodable>(_ type: T.Type, from body: [UInt8]) throws(WeChatError) -> T {
        let envelope: Envelope
        do {
            envelope = try JSONDecoder().decode(Envelope.self, from: Data(body))
        } catch {
            throw .unavailable(errcode: 0, message: "undecodable JSON answer")
        }
        if let errcode = envelope.errcode, errcode != 0 {
            let errmsg = envelope.errmsg ?? ""
            guard let code = Int32(exactly: errcode) else { throw .unavailable(errcode: 0, message: "errcode out of range") }
            switch code {
            case -1: throw .unavailable(errcode: -1, message: errmsg.isEmpty ? "system error" : errmsg)
            case 45009, 45011:
                throw .rateLimited(errcode: code, errmsg: errmsg, retryAfterMilliseconds: Jscode2SessionAnswer.rateLimitRetryAfterMilliseconds)
            default: throw .rejected(errcode: code, errmsg: errmsg)
            }
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch {
            throw .unavailable(errcode: 0, message: "answer without the expected fields")
        }
    }
}

extension WeChatError {
    /// 40001 (invalid access token) or 42001 (expired access token): fetch a new token and try once more.
    public var isStaleAccessToken: Bool {
        if case .rejected(let errcode, _) = self { return errcode == 40001 || errcode == 42001 }
        return false
    }

    /// The errcode, when WeChat gave one.
    public var errcode: Int32? {
        switch self {
        case .rejected(let errcode, _), .unavailable(let errcode, _), .rateLimited(let errcode, _, _): errcode
        case .notSent, .overloaded: nil
        }
    }
}
