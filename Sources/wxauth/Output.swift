import ArgumentParser
import Foundation
import WXAuthClient
import WXAuthProtocol

/// Text or JSON output, and the exit code for each error class (documented in README "CLI").
enum Output {
    static func emit(_ fields: [(String, Any)], json: Bool) {
        if json {
            var object: [String: Any] = [:]
            for (key, value) in fields { object[key] = value }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
            print(String(decoding: data, as: UTF8.self))
        } else {
            let width = fields.map(\.0.count).max() ?? 0
            for (key, value) in fields {
                print(key.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + "\(value)")
            }
        }
    }

    static func sessionFields(_ session: SessionView) -> [(String, Any)] {
        var fields: [(String, Any)] = [("app_id", session.appID), ("openid", session.openid)]
        if !session.unionid.isEmpty { fields.append(("unionid", session.unionid)) }
        fields += [
            ("created_at", iso(session.createdAt)),
            ("expires_at", iso(session.expiresAt)),
            ("absolute_expires_at", iso(session.absoluteExpiresAt)),
        ]
        return fields
    }

    static func iso(_ milliseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }

    /// Prints `error` (to stderr, or as JSON on stdout) and returns the exit code for its class.
    static func fail(_ error: any Error, json: Bool) -> ExitCode {
        let (code, status, message): (Int32, String, String)
        switch error {
        case let server as ServerError:
            (code, status, message) = (exitCode(for: server.status), server.status.name, server.description)
        case let client as WXAuthClientError:
            (code, status, message) = (client == .timedOut ? 75 : 69, "CLIENT_ERROR", client.description)
        case let cli as CLIFailure:
            (code, status, message) = (69, "CONNECTION_FAILED", cli.description)
        default:
            (code, status, message) = (70, "ERROR", "\(error)")
        }
        if json {
            var fields: [(String, Any)] = [("ok", false), ("status", status), ("message", message)]
            if let server = error as? ServerError {
                fields.append(("retryable", server.isRetryable))
                if server.errcode != 0 { fields.append(("errcode", Int(server.errcode))) }
                if server.status == .decryptFailed { fields.append(("reason", server.reason.name)) }
                if server.status == .rateLimited { fields.append(("retry_after_ms", Int(server.retryAfterMilliseconds))) }
            }
            emit(fields, json: true)
        } else {
            FileHandle.standardError.write(Data("wxauth: \(message)\n".utf8))
        }
        return ExitCode(code)
    }

    /// One exit code per error class; see README.
    static func exitCode(for status: Status) -> Int32 {
        switch status {
        case .invalidToken: 10
        case .tokenExpired: 11
        case .tokenRevoked: 12
        case .unknownApp: 13
        case .decryptFailed: 14
        case .signatureMismatch: 15
        case .wechatRejected: 20
        case .wechatUnavailable: 21
        case .rateLimited: 30
        case .serverFull: 31
        case .notAuthorized: 32
        case .shuttingDown: 33
        case .malformedRequest, .unsupportedVersion, .unknownOpcode, .frameTooLarge: 40
        default: 70
        }
    }
}
