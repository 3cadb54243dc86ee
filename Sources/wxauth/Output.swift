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

    /// One exit code per error class, in the order the help text lists them (README "CLI" repeats it).
    static let exitCodes: [(code: Int32, meaning: String, statuses: [Status])] = [
        (0, "ok", [.ok]),
        (10, "invalid token", [.invalidToken]),
        (11, "expired", [.tokenExpired]),
        (12, "revoked", [.tokenRevoked]),
        (13, "unknown app", [.unknownApp]),
        (14, "user data refused (DECRYPT_FAILED)", [.decryptFailed]),
        (15, "signature mismatch", [.signatureMismatch]),
        (20, "WeChat rejected the code", [.wechatRejected]),
        (21, "WeChat unavailable", [.wechatUnavailable]),
        (30, "rate limited", [.rateLimited]),
        (31, "server full", [.serverFull]),
        (32, "not authorized", [.notAuthorized]),
        (33, "shutting down", [.shuttingDown]),
        (34, "store unavailable (the server's disk refuses writes, or its Redis is unreachable)", [.storeUnavailable]),
        (40, "bad request", [.malformedRequest, .unsupportedVersion, .unknownOpcode, .frameTooLarge]),
        (69, "cannot connect", []),
        (70, "internal error", [.internalError]),
        (75, "timed out", []),
    ]

    static var exitCodeHelp: String {
        "Exit codes: " + exitCodes.map { "\($0.code) \($0.meaning)" }.joined(separator: ", ") + "."
    }

    static func exitCode(for status: Status) -> Int32 {
        exitCodes.first { $0.statuses.contains(status) }?.code ?? 70
    }
}
