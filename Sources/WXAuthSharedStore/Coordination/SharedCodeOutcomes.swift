import Logging
import NIOCore
import Synchronization
import WXAuthCrypto
import WXAuthRedis

/// Cross-node singleflight for one-time codes: however many nodes receive the same code, one runs the work
/// (`produce`, e.g. the jscode2session call) and every caller gets its outcome.
///
/// The code's key (`wxc:{hash}`) is claimed with `SET key P<id> NX PX claimTTL`. The winner runs `produce`; while
/// it runs, the claim is renewed (so a slow call keeps it, a dead node loses it within `claimTTL`). A definite
/// outcome replaces the claim, sealed with AES-256-GCM (the key name as associated data), for `rememberFor`
/// (a code's life); a transient one deletes the claim so the next caller tries again. Other callers poll with a
/// short, growing pause (2 ms to 20 ms) until the outcome appears, the claim disappears (they claim it and
/// produce), or their wait is over (nil).
///
/// A stored value that does not open (tampered, or written by something else) is never returned: it is counted
/// in `unreadableValues`, and the reader takes the key over as if it were absent.
public final class SharedCodeOutcomes: Sendable {
    public struct Configuration: Sendable {
        /// How long a claim lives without renewal: the time another node waits after the producing node died.
        public var claimTTL: Duration
        /// How long a definite outcome is kept (a WeChat code lives 5 minutes).
        public var rememberFor: Duration
        /// Separates users of one Redis and secret (e.g. the app id).
        public var namespace: String

        public init(namespace: String, claimTTL: Duration = .seconds(10), rememberFor: Duration = .seconds(300)) {
            self.namespace = namespace
            self.claimTTL = claimTTL
            self.rememberFor = rememberFor
        }
    }

    public let configuration: Configuration
    private let client: any RedisClient
    private let naming: CoordinationKeyNaming
    private let sealer: CoordinationSealer
    private let random: any RandomSource
    private let logger: Logger
    private let unreadable = Atomic<Int>(0)
    private let produced = Atomic<Int>(0)

    public init(client: any RedisClient, secret: CoordinationSecret, configuration: Configuration,
                random: any RandomSource = OpenSSLRandom(), logger: Logger = Logger(label: "wxauth.coordination")) throws(CryptoError) {
        self.client = client
        self.configuration = configuration
        naming = CoordinationKeyNaming(secret: secret)
        sealer = try CoordinationSealer(secret: secret, random: random)
        self.random = random
        self.logger = logger
    }

    /// Stored values that did not open (tampered or foreign) since start.
    public var unreadableValues: Int { unreadable.load(ordering: .relaxed) }
    /// Times this instance ran `produce`.
    public var productions: Int { produced.load(ordering: .relaxed) }

    /// The outcome for `key` (e.g. a keyed hash of the code): stored by any node, or produced here.
    ///
    /// - Parameters:
    ///   - waitingAtMost: how long to wait for another node's outcome. It does not bound `produce` when this caller
    ///     runs it (give `produce` its own deadline).
    ///   - produce: the work; runs at most once across nodes at a time for `key`, and not again once a definite
    ///     outcome is stored.
    /// - Returns: the outcome, or nil when another node still works on it at the deadline (or the task was
    ///   cancelled while waiting).
    /// - Throws: the Redis client's error when Redis cannot be asked (before any work was done). Once `produce`
    ///   has run, its outcome is returned even if storing it fails (that failure is logged).
    public func outcome(for key: String, waitingAtMost: Duration,
                        produce: @Sendable () async -> SharedOutcome) async throws -> SharedOutcome? {
        let keyName = self.keyName(for: key)
        let claim = CodeOutcomeRecord.claimValue(id: try random.bytes(count: 16))
        let deadline = WaitDeadline(after: waitingAtMost)
        var backoff = PollBackoff()
        while true {
            let reply = try await client.execute(RedisCommand(
                ["SET", keyName, claim, "NX", "PX", configuration.claimTTL.redisMilliseconds, "GET"], keys: [1]))
            let stored = try reply.storedBytes()
            switch CodeOutcomeRecord(stored: stored) {
            case .claimedByUs:
                return await produceHoldingClaim(keyName: keyName, claim: claim, produce: produce)
            case .claimedByOther:
                break
            case .sealed(let sealed):
                if let payload = sealer.open(sealed, keyName: keyName) {
                    return SharedOutcome(payload: payload, isDefinite: true)
                }
                if try await takeOver(keyName: keyName, unreadable: stored!, claim: claim) {
                    return await produceHoldingClaim(keyName: keyName, claim: claim, produce: produce)
                }
            case .unreadable:
                if try await takeOver(keyName: keyName, unreadable: stored!, claim: claim) {
                    return await produceHoldingClaim(keyName: keyName, claim: claim, produce: produce)
                }
            }
            guard await deadline.sleep(backoff.pause()) else { return nil }
        }
    }

    func keyName(for key: String) -> String {
        naming.name(prefix: SharedStoreKeys.codePrefix, namespace: configuration.namespace, item: key)
    }

    /// Counts an unreadable value and replaces it with our claim, unless it changed meanwhile.
    private func takeOver(keyName: String, unreadable stored: [UInt8], claim: String) async throws -> Bool {
        unreadable.add(1, ordering: .relaxed)
        logger.warning("unreadable code outcome in Redis; ignoring it", metadata: ["redis.key": "\(keyName)"])
        let replaced = try await client.run(
            CoordinationScripts.replaceIfEqual, keys: [ByteBuffer(string: keyName)],
            arguments: [ByteBuffer(bytes: stored), ByteBuffer(string: claim), ByteBuffer(string: configuration.claimTTL.redisMilliseconds)])
        return replaced.integer == 1
    }

    private func produceHoldingClaim(keyName: String, claim: String,
                                     produce: @Sendable () async -> SharedOutcome) async -> SharedOutcome {
        produced.add(1, ordering: .relaxed)
        let renewal = CoordinationLease(client: client, key: keyName, value: claim, ttl: configuration.claimTTL)
            .startRenewing(logger: logger)
        let outcome = await produce()
        renewal.cancel()
        do {
            if outcome.isDefinite {
                let stored = CodeOutcomeRecord.outcomeValue(sealed: try sealer.seal(outcome.payload, keyName: keyName))
                _ = try await client.run(
                    Self.storeScript, keys: [ByteBuffer(string: keyName)],
                    arguments: [ByteBuffer(bytes: stored), ByteBuffer(string: configuration.rememberFor.redisMilliseconds)])
            } else {
                _ = try await client.run(CoordinationScripts.deleteIfEqual, keys: [keyName], arguments: [claim])
            }
        } catch {
            // The work is done and its outcome is ours to return; other nodes see the claim expire and retry.
            logger.warning("could not settle a code outcome in Redis", metadata: [
                "redis.key": "\(keyName)", "redis.error": "\(error)",
            ])
        }
        return outcome
    }

    /// KEYS[1]: the code's key. ARGV: the outcome value, milliseconds to keep it. Stores over any claim (ours, or
    /// another node's that took over after ours lapsed: the code is spent, our outcome is the real one) or over
    /// nothing; keeps an outcome already stored. Answers 1 when stored.
    static let storeScript = RedisScript("""
        local v = redis.call('GET', KEYS[1])
        if v == false or string.sub(v, 1, 1) == 'P' then
          redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
          return 1
        end
        return 0
        """)
}

extension RESP3Value {
    /// nil for a null reply, the bytes of a string reply; throws `unexpectedReply` for anything else.
    func storedBytes() throws -> [UInt8]? {
        if self == .null || self == .boolean(false) { return nil }
        guard let bytes else { throw RedisClientError(.unexpectedReply, "expected a string or null") }
        return bytes
    }

    /// The bytes of a blob or simple string; nil for null and every other type.
    var bytes: [UInt8]? {
        switch self {
        case .blobString(let buffer), .simpleString(let buffer): return Array(buffer.readableBytesView)
        case .attributed(_, let value): return value.bytes
        default: return nil
        }
    }
}
