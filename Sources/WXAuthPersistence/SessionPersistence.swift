#if canImport(Glibc)
import NIOConcurrencyHelpers
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Logging
import Synchronization
import WXAuthCrypto
import WXAuthSessions

/// Keeps a `SessionStore` across restarts: loads the snapshot and replays the journal on start, journals every
/// mutation, snapshots periodically (compacting the journal) and once more on shutdown. docs/PERSISTENCE.md has
/// the formats and the crash-safety argument.
///
/// Order of use: `init` (takes the directory's lock), `load()`, `start()`, then `shutdown()` after the server has
/// drained. `snapshot()` may be called any time after `start()`.
public final class SessionPersistence: Sendable {
    /// What `load()` found.
    public struct LoadReport: Sendable, CustomStringConvertible {
        public var snapshotGeneration: UInt64?
        public var snapshotEntries = 0
        public var journalFiles = 0
        public var journalEntries = 0
        /// Entries now in the store.
        public var restored = 0
        /// Sessions past their deadline and tombstones past their time: not restored.
        public var expired = 0
        /// Entries whose token the store already held in the same or a later state (normal during replay).
        public var superseded = 0
        public var integrityFailures = 0
        public var unknownApp = 0
        public var tornTails = 0
        /// Files moved aside (their new paths).
        public var refusedFiles: [String] = []
        public var milliseconds: Double = 0

        public var description: String {
            "snapshot entries \(snapshotEntries), journal files \(journalFiles), journal entries \(journalEntries), "
                + "restored \(restored), expired \(expired), superseded \(superseded), "
                + "integrity failures \(integrityFailures), unknown app \(unknownApp), torn tails \(tornTails), "
                + "refused files \(refusedFiles.count), \(String(format: "%.1f", milliseconds)) ms"
        }
    }

    public struct SnapshotReport: Sendable {
        public var generation: UInt64
        public var entries: Int
        public var bytes: Int
        public var milliseconds: Double
    }

    public let configuration: PersistenceConfiguration
    let store: SessionStore
    let random: any RandomSource
    let logger: Logger
    let journal: JournalWriter
    let lockDescriptor: Int32
    let nextGeneration = NIOLockedValueBox<UInt64>(1)
    private let snapshotLock = NIOLockedValueBox(())
    private let loops = NIOLockedValueBox<[BackgroundLoop]>([])
    private let closed = Atomic<Bool>(false)

    /// Creates the directory when missing (0700) and takes its lock: two servers never share a data directory.
    public init(
        configuration: PersistenceConfiguration, store: SessionStore, random: any RandomSource = OpenSSLRandom(),
        logger: Logger
    ) throws {
        try FileIO.makeDirectory(configuration.directory)
        guard let descriptor = try FileIO.lock(configuration.directory + "/lock") else {
            throw PersistenceStartError(
                "data directory \(configuration.directory) is in use by another wxauthd (its lock file is held)"
            )
        }
        self.configuration = configuration
        self.store = store
        self.random = random
        self.logger = logger
        self.journal = JournalWriter(policy: configuration.flushPolicy, faults: configuration.diskFaults, logger: logger)
        self.lockDescriptor = descriptor
    }

    var directory: String { configuration.directory }

    // MARK: - Running

    /// Opens a new journal file, attaches it to the store, and starts the flush and snapshot threads.
    /// `snapshotNow` takes a first snapshot right away in the background (compacting what `load` replayed).
    public func start(snapshotNow: Bool = true) throws {
        let generation = nextGeneration.withLockedValue { value -> UInt64 in
            defer { value += 1 }
            return value
        }
        try openSegment(generation: generation)
        store.attachJournal(journal)
        var started: [BackgroundLoop] = []
        // Under `interval` and `never` this writes the queue; under `always` the queue is empty unless a write
        // failed, and this is what retries it once the disk accepts writes again.
        started.append(BackgroundLoop(
            name: "wxauth-journal-flush", intervalMilliseconds: configuration.flushIntervalMilliseconds,
            runFirstImmediately: false
        ) { [journal] in journal.flushInBackground() })
        started.append(BackgroundLoop(
            name: "wxauth-snapshot", intervalMilliseconds: configuration.snapshotIntervalMilliseconds,
            runFirstImmediately: snapshotNow
        ) { [self] in
            do {
                try snapshot()
            } catch {
                logger.error("persistence: snapshot failed; the previous snapshot and the journal stay in use", metadata: [
                    "error": "\(error)",
                ])
            }
        })
        loops.withLockedValue { $0 = started }
    }

    /// Writes a snapshot and removes the journal files it compacts. One at a time.
    @discardableResult
    public func snapshot() throws -> SnapshotReport {
        try snapshotLock.withLockedValue { _ throws -> SnapshotReport in
            let started = DispatchTime.now()
            let generation = nextGeneration.withLockedValue { value -> UInt64 in
                defer { value += 1 }
                return value
            }
            // The cut: changes from now on go to the new journal file; everything before is in the store the
            // snapshot reads below (and in the old journal, which is synced and kept until the rename succeeds).
            try openSegment(generation: generation)
            let pause = configuration.pauseBeforeSnapshotRenameMilliseconds
            let written = try SnapshotFile.write(
                store: store, directory: directory, generation: generation, keyring: store.keyring, random: random,
                now: store.clockNow, faults: configuration.diskFaults
            ) { [logger] in
                guard pause > 0 else { return }
                logger.notice("persistence: test hook: snapshot temporary file written; pausing before the rename", metadata: [
                    "ms": "\(pause)",
                ])
                usleep(UInt32(min(pause, 3_600_000)) * 1000)
            }
            for name in (try? FileIO.list(directory)) ?? [] {
                guard let old = JournalSegment.generation(ofFileName: name), old < generation else { continue }
                try? FileIO.remove(directory + "/" + name)
            }
            let report = SnapshotReport(
                generation: generation, entries: written.entries, bytes: written.bytes,
                milliseconds: Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e6
            )
            logger.info("persistence: snapshot written", metadata: [
                "generation": "\(generation)", "entries": "\(report.entries)", "bytes": "\(report.bytes)",
                "ms": "\(Int(report.milliseconds))",
            ])
            return report
        }
    }

    /// Creates journal segment `generation` and makes it the journal's current file once everything queued for
    /// the previous one is on disk. On failure the new file is removed and the previous one stays current.
    private func openSegment(generation: UInt64) throws {
        let segment = try JournalSegment(
            directory: directory, generation: generation, keyring: store.keyring, random: random, now: store.clockNow,
            faults: configuration.diskFaults
        )
        do {
            try journal.switchSegment(to: segment)
        } catch {
            segment.discard()
            throw error
        }
    }

    /// Writes buffered journal records now (tests and the measurement tool). Throws when the disk refused them
    /// (they stay queued and the journal refuses changes until a flush succeeds).
    public func flushJournal() throws(IOFailure) {
        try journal.flush()
    }

    /// Whether changes can be kept now, and if not, why (for readiness and operators).
    public var health: Health {
        Health(journalFailure: journal.currentFailure.map { "\($0)" }, queuedBytes: journal.queuedBytes)
    }

    public struct Health: Sendable {
        /// Why the journal refuses changes (a failed write or sync), nil while it accepts them.
        public var journalFailure: String?
        /// Encoded changes not yet known to be on disk.
        public var queuedBytes: Int
        public var acceptsChanges: Bool { journalFailure == nil }
    }

    /// After the server drained: stops the background threads, writes a final snapshot, closes the journal and
    /// releases the directory lock. Idempotent.
    public func shutdown(finalSnapshot: Bool = true) {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let running = loops.withLockedValue { loops in
            defer { loops = [] }
            return loops
        }
        for loop in running { loop.stop() }
        if finalSnapshot {
            do {
                let report = try snapshot()
                logger.notice("persistence: final snapshot written", metadata: [
                    "entries": "\(report.entries)", "ms": "\(Int(report.milliseconds))",
                ])
            } catch {
                logger.error("persistence: final snapshot failed; the journal keeps the changes", metadata: [
                    "error": "\(error)",
                ])
            }
        }
        store.attachJournal(nil)
        do {
            try journal.switchSegment(to: nil)
        } catch {
            logger.critical("persistence: could not write the last journal records at shutdown; changes made while the disk refused writes are lost", metadata: [
                "error": "\(error)", "queued_bytes": "\(journal.queuedBytes)",
            ])
        }
        FileIO.close(lockDescriptor)
    }
}

/// Persistence cannot start (the directory is unusable or in use).
public struct PersistenceStartError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
