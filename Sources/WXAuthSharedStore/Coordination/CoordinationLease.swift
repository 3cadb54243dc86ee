import Logging
import WXAuthRedis

/// Keeps a claim or lock key alive while its holder works: every third of `ttl` the key's expiry is pushed back to
/// `ttl`, as long as the key still holds the holder's value. If the holder's process dies, renewals stop and the
/// key expires within `ttl`, so another node can take over; a slow but live holder keeps it.
struct CoordinationLease: Sendable {
    let client: any RedisClient
    let key: String
    let value: String
    let ttl: Duration

    /// Starts renewing in the background; cancel the task when the work is done.
    func startRenewing(logger: Logger) -> Task<Void, Never> {
        Task { [client, key, value, ttl] in
            while true {
                do {
                    try await Task.sleep(for: ttl / 3)
                } catch {
                    return
                }
                do {
                    let renewed = try await client.run(CoordinationScripts.extendIfEqual, keys: [key],
                                                       arguments: [value, ttl.redisMilliseconds], timeout: ttl / 3)
                    if renewed.integer != 1 { return }  // taken over or gone: nothing left to keep
                } catch {
                    logger.debug("coordination lease renewal failed", metadata: ["redis.error": "\(error)"])
                }
            }
        }
    }
}
