import WXAuthRedis

/// The Lua scripts behind the shared store's changes. Each runs atomically on the one node that owns its keys'
/// slot (every key of a call shares the user's hash tag), by EVALSHA with a NOSCRIPT reload.
enum SessionScripts {
    /// LOGIN. KEYS: session, user index, user watermark. ARGV: value, ttl ms, created_at, absolute_expires_at, now.
    /// Refuses (0) a session created at or before the user's REVOKE_USER watermark: a LOGIN racing a REVOKE_USER
    /// on another node cannot survive it. -1 when the session id is taken (the caller draws another). Prunes the
    /// index: members past their absolute deadline, and up to 8 of the oldest whose key is gone (idle-expired or
    /// swept), so the index tracks the user's live sessions and never grows without bound.
    static let create = RedisScript("""
    local watermark = redis.call('GET', KEYS[3])
    if watermark and tonumber(watermark) >= tonumber(ARGV[3]) then return 0 end
    if not redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return -1 end
    redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[5])
    for _, member in ipairs(redis.call('ZRANGE', KEYS[2], 0, 7)) do
        if redis.call('EXISTS', member) == 0 then redis.call('ZREM', KEYS[2], member) end
    end
    redis.call('ZADD', KEYS[2], ARGV[4], KEYS[1])
    local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
    redis.call('PEXPIREAT', KEYS[2], last[2])
    return 1
    """)

    /// Compare-and-set. KEYS: session. ARGV: the value read, the new value, ttl ms. 1 when swapped, 0 when the
    /// value changed meanwhile (another node's REFRESH, REVOKE, slide or reset): the caller reads again.
    static let compareAndSet = RedisScript("""
    if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
    redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
    return 1
    """)

    /// REVOKE and reuse detection. KEYS: session. ARGV: now. 1 revoked now, 2 already revoked, 0 no such session.
    /// The revoked value is kept until the session's absolute deadline (from the value's ASCII prefix).
    static let revoke = RedisScript("""
    local value = redis.call('GET', KEYS[1])
    if not value then return 0 end
    local state = string.sub(value, 1, 1)
    if state == 'R' then return 2 end
    if state ~= 'L' then return 0 end
    local deadline = string.sub(value, 2, 14)
    local ttl = tonumber(deadline) - tonumber(ARGV[1])
    if ttl < 1 then ttl = 1 end
    redis.call('SET', KEYS[1], 'R' .. deadline, 'PX', ttl)
    return 1
    """)

    /// REVOKE_USER. KEYS: user index, user watermark. ARGV: now, watermark ttl ms. Sets the watermark, revokes
    /// every indexed session (counting those not yet expired), deletes the index. Returns the count.
    static let revokeUser = RedisScript("""
    local now = tonumber(ARGV[1])
    local previous = redis.call('GET', KEYS[2])
    if not previous or tonumber(previous) < now then redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2]) end
    local count = 0
    for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')) do
        local value = redis.call('GET', member)
        if value and string.sub(value, 1, 1) == 'L' then
            local deadline = string.sub(value, 2, 14)
            if tonumber(string.sub(value, 15, 27)) > now then count = count + 1 end
            local ttl = tonumber(deadline) - now
            if ttl < 1 then ttl = 1 end
            redis.call('SET', member, 'R' .. deadline, 'PX', ttl)
        end
    end
    redis.call('DEL', KEYS[1])
    return count
    """)
}
