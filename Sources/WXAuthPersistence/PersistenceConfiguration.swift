/// Where and how sessions are persisted (`wxauthd --data-dir`). See docs/PERSISTENCE.md.
public struct PersistenceConfiguration: Sendable {
    /// Created (mode 0700) when missing. Holds `sessions.snapshot`, `journal-*.wal`, `lock`, and refused files.
    public var directory: String
    /// Default `.interval`.
    public var flushPolicy: JournalFlushPolicy = .interval
    /// How often the journal is flushed under `.interval` and `.never`. Default 1 s.
    public var flushIntervalMilliseconds: Int64 = 1000
    /// How often a snapshot compacts the journal. Default 300 s.
    public var snapshotIntervalMilliseconds: Int64 = 300_000
    /// Test hook (`WXAUTH_TEST_SNAPSHOT_PAUSE_MS`): sleep this long after the snapshot's temporary file is written
    /// and synced, before the rename, so a test can kill the process mid-snapshot. 0 in production.
    public var pauseBeforeSnapshotRenameMilliseconds: Int64 = 0
    /// Test hook: makes journal and snapshot writes fail as a full or failing disk does. nil in production.
    public var diskFaults: DiskFaultInjection?

    public init(directory: String) {
        self.directory = directory
    }
}
