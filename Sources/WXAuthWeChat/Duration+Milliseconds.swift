extension Duration {
    /// Whole milliseconds, truncated (for log lines and wire fields that count milliseconds).
    public var wholeMilliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
