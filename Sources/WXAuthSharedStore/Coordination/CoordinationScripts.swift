import WXAuthRedis

/// Lua scripts shared by the coordination components: conditional writes on one key, where the condition is the
/// exact value the caller holds (a claim id, a lock id, the sealed bytes it read), so a node never deletes or
/// extends what another node wrote since.
enum CoordinationScripts {
    /// `DEL KEYS[1]` if its value is `ARGV[1]`; answers 1 when deleted, else 0.
    static let deleteIfEqual = RedisScript("""
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """)

    /// `PEXPIRE KEYS[1] ARGV[2]` if its value is `ARGV[1]`; answers 1 when extended, else 0.
    static let extendIfEqual = RedisScript("""
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
        return 0
        """)

    /// `SET KEYS[1] ARGV[2] PX ARGV[3]` if its value is `ARGV[1]`; answers 1 when replaced, else 0.
    static let replaceIfEqual = RedisScript("""
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
          return 1
        end
        return 0
        """)
}

extension Duration {
    /// Whole milliseconds, at least 1 (Redis refuses PX 0), as Redis arguments want them.
    var redisMilliseconds: String {
        let milliseconds = components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
        return String(max(1, milliseconds))
    }
}
