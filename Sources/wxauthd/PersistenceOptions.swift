import Foundation
import Logging
import WXAuthPersistence
import WXAuthServer

extension WXAuthDaemon {
    /// `--data-dir`, `--journal-flush`, `--snapshot-interval` (flags win over the file's `data_dir`,
    /// `journal_flush`, `snapshot_interval_seconds`). Without a data directory nothing is persisted.
    func applyPersistence(
        to configuration: inout ServerConfiguration, file: ConfigurationFile?, environment: [String: String]
    ) throws {
        guard let directory = dataDir ?? file?.dataDirectory else {
            if journalFlush != nil || snapshotInterval != nil {
                throw ConfigurationError("--journal-flush and --snapshot-interval need --data-dir DIR")
            }
            return
        }
        guard !directory.isEmpty else { throw ConfigurationError("--data-dir must not be empty") }
        var persistence = PersistenceConfiguration(directory: directory)
        if let name = journalFlush ?? file?.journalFlush {
            guard let policy = JournalFlushPolicy(rawValue: name) else {
                throw ConfigurationError("journal flush policy must be always, interval or never, not \(name)")
            }
            persistence.flushPolicy = policy
        }
        if let seconds = snapshotInterval ?? file?.snapshotIntervalSeconds {
            guard seconds >= 1 else { throw ConfigurationError("snapshot interval must be at least 1 second") }
            persistence.snapshotIntervalMilliseconds = Int64(seconds * 1000)
        }
        // Test hook only (docs/PERSISTENCE.md "Testing"): pause between the snapshot's temp file and its rename.
        if let pause = environment["WXAUTH_TEST_SNAPSHOT_PAUSE_MS"].flatMap(Int64.init), pause > 0 {
            persistence.pauseBeforeSnapshotRenameMilliseconds = pause
        }
        configuration.persistence = persistence
    }

    func measure(sessions: Int) throws {
        guard let dataDir else { throw ConfigurationError("--measure-persistence needs --data-dir DIR (it is emptied)") }
        guard sessions > 0 else { throw ConfigurationError("--measure-persistence needs a positive session count") }
        #if DEBUG
        FileHandle.standardError.write(Data("DEBUG BUILD: numbers are not representative; use swift build -c release\n".utf8))
        #endif
        let result = try PersistenceMeasurement.run(
            sessions: sessions, directory: dataDir, logger: Logger(label: "wxauthd.persistence")
        )
        print(result.description)
    }
}
