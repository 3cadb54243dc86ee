/// Fields of Redis's `INFO` reply (`name:value` lines).
public enum RedisInfo {
    /// The value of `name` (e.g. `used_memory`), or nil.
    public static func field(_ name: String, in info: String) -> String? {
        for line in info.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":"), line[..<colon] == name else { continue }
            return String(line[line.index(after: colon)...])
        }
        return nil
    }
}
