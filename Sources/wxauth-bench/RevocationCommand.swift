import ArgumentParser
import Foundation
import Histogram
import WXAuthBenchCore
import WXAuthClient
import WXAuthProtocol

/// How long a REVOKE on one wxauthd node takes to be refused on another that shares its store: per trial, a
/// session is validated on node B twice (so B's near cache holds it), revoked on node A, then validated on B in a
/// tight loop until B answers TOKEN_REVOKED. Reported from the moment A acknowledged the REVOKE (what a caller
/// that revoked can rely on) and from the moment it was sent.
struct RevocationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revocation",
        abstract: "Revocation visibility across two wxauthd nodes sharing a store: REVOKE on A, time until B refuses.")

    @Option(help: "Node A (host:port): logs in and revokes.") var nodeA: String
    @Option(help: "Node B (host:port): validates.") var nodeB: String
    @Option(help: "Trials (one session each).") var trials: Int = 10_000
    @Option(help: "The WeChat simulator's base URL.") var simulator: String = "http://127.0.0.1:7401"
    @Option(help: "App id for LOGIN.") var app: String = "wxdevapp00000001"
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let (hostA, portA) = try Self.address(nodeA)
        let (hostB, portB) = try Self.address(nodeB)
        let keys = try await SimulatorSetup(simulatorURL: simulator, appID: app).loginSessions(trials, host: hostA, port: portA)
        let tokens = (0..<keys.count).map { String(decoding: keys[$0], as: UTF8.self) }
        let a = try await WXAuthClient.connect(host: hostA, port: portA)
        let b = try await WXAuthClient.connect(host: hostB, port: portB)
        var sinceAcknowledged = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        var sinceSent = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        var stillAccepted = 0
        for token in tokens {
            _ = try await b.validate(token: token)
            _ = try await b.validate(token: token)
            let sent = ContinuousClock.now
            try await a.revoke(token: token)
            let acknowledged = ContinuousClock.now
            var refused = false
            while !refused {
                do {
                    _ = try await b.validate(token: token)
                    stillAccepted += 1
                    guard ContinuousClock.now - acknowledged < .seconds(10) else {
                        throw ValidationError("node B still accepts a token revoked 10 s ago on node A")
                    }
                } catch let error as ServerError where error.status == .tokenRevoked {
                    refused = true
                }
            }
            let done = ContinuousClock.now
            sinceAcknowledged.record(Self.nanoseconds(done - acknowledged))
            sinceSent.record(Self.nanoseconds(done - sent))
        }
        try? await a.close()
        try? await b.close()
        let fromAck = LatencySummary(nanoseconds: sinceAcknowledged)
        let fromSend = LatencySummary(nanoseconds: sinceSent)
        if json {
            let object: [String: Any] = [
                "trials": tokens.count, "validations_accepted_after_revoke_ack": stillAccepted,
                "since_ack_p50_us": fromAck.p50Micros, "since_ack_p99_us": fromAck.p99Micros, "since_ack_max_us": fromAck.maxMicros,
                "since_send_p50_us": fromSend.p50Micros, "since_send_p99_us": fromSend.p99Micros, "since_send_max_us": fromSend.maxMicros,
            ]
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print("revocation visibility over \(tokens.count) trials (REVOKE on \(nodeA), VALIDATE on \(nodeB), \(buildConfiguration) build)")
            print(String(format: "  from REVOKE acknowledged by A until B refuses: p50 %.1f us  p99 %.1f us  max %.1f us",
                         fromAck.p50Micros, fromAck.p99Micros, fromAck.maxMicros))
            print(String(format: "  from REVOKE sent to A until B refuses:         p50 %.1f us  p99 %.1f us  max %.1f us",
                         fromSend.p50Micros, fromSend.p99Micros, fromSend.maxMicros))
            print("  VALIDATEs B accepted after A acknowledged the REVOKE: \(stillAccepted)")
        }
    }

    static func address(_ text: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else {
            throw ValidationError("\(text): expected host:port")
        }
        return (String(text[..<colon]), port)
    }

    static func nanoseconds(_ duration: Duration) -> UInt64 {
        UInt64(max(0, duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000))
    }
}
