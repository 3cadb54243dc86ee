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
    private let store: SessionStore
    private let random: any RandomSource
    private let logger: Logger
    private let journal: JournalWriter
    private let lockDescriptor: Int32
    private let nextGeneration = NIOLockedValueBox<UInt64>(1)
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

    private var directory: String { configuration.directory }

    // MARK: - Load

    /// Loads the snapshot and replays the journal files into the store. Never throws: a file that fails
    /// verification is moved aside (`<name>.refused-<ms>`) with an error log line and the service starts without it.
    @discardableResult
    public func load() -> LoadReport {
        let started = DispatchTime.now()
        let now = store.clockNow
        var report = LoadReport()
        let keyring = store.keyring
        func count(_ outcome: RestoreOutcome, times: Int = 1) {
            switch outcome {
            case .restored: report.restored += times
            case .superseded: report.superseded += times
            case .expired: report.expired += times
            case .unknownApp: report.unknownApp += times
            case .integrityFailure: report.integrityFailures += times
            }
        }

        let temporary = directory + "/" + SnapshotFile.temporaryName
        if FileIO.exists(temporary) {
            try? FileIO.remove(temporary)
            logger.warning("persistence: removed an incomplete snapshot left by a crash during a snapshot; the previous one is used", metadata: ["file": "\(temporary)"])
        }

        var highest: UInt64 = 0
        let snapshotPath = directory + "/" + SnapshotFile.name
        do {
            if let bytes = try FileIO.readFile(snapshotPath) {
                do {
                    let (header, outcomes) = try SnapshotFile.read(
                        bytes, keyring: keyring, willRestore: { store.reserveCapacity(forEntries: $0) }
                    ) { [store] entry in store.restore(entry, now: now) }
                    for (outcome, times) in outcomes {
                        report.snapshotEntries += times
                        count(outcome, times: times)
                    }
                    report.snapshotGeneration = header.generation
                    highest = header.generation
                } catch {
                    report.refusedFiles.append(refuse(snapshotPath, kind: "snapshot", reason: error, now: now, detail: [:]))
                }
            }
        } catch {
            logger.error("persistence: cannot read the snapshot; starting without it", metadata: ["error": "\(error)"])
        }

        let journals = ((try? FileIO.list(directory)) ?? [])
            .compactMap { name in JournalSegment.generation(ofFileName: name).map { (generation: $0, name: name) } }
            .sorted { $0.generation < $1.generation }
        for file in journals {
            let path = directory + "/" + file.name
            highest = max(highest, file.generation)
            if let snapshotGeneration = report.snapshotGeneration, file.generation < snapshotGeneration {
                // Everything in it is in the snapshot already (a crash between the rename and the clean-up).
                try? FileIO.remove(path)
                continue
            }
            let bytes: [UInt8]
            do {
                guard let read = try FileIO.readFile(path) else { continue }
                bytes = read
            } catch {
                logger.error("persistence: cannot read a journal file; starting without it", metadata: [
                    "file": "\(path)", "error": "\(error)",
                ])
                continue
            }
            report.journalFiles += 1
            let outcome = JournalReader.read(bytes, keyring: keyring, expectedGeneration: file.generation) { entry in
                count(store.restore(entry, now: now))
            }
            report.journalEntries += outcome.entries
            if let torn = outcome.tornTail {
                report.tornTails += 1
                logger.warning("persistence: journal ends inside a record (a write cut short by a crash); the incomplete record is skipped", metadata: [
                    "file": "\(path)", "detail": "\(torn)", "records_applied": "\(outcome.records)",
                ])
            }
            if let refusal = outcome.refusal {
                report.refusedFiles.append(refuse(path, kind: "journal", reason: refusal, now: now, detail: [
                    "records_applied_before_the_failure": "\(outcome.records)",
                ]))
            }
        }
        nextGeneration.withLockedValue { $0 = max($0, highest + 1) }
        report.milliseconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e6
        logger.notice("persistence: sessions loaded", metadata: [
            "directory": "\(directory)", "snapshot_entries": "\(report.snapshotEntries)",
            "journal_files": "\(report.journalFiles)", "journal_entries": "\(report.journalEntries)",
            "restored": "\(report.restored)", "expired": "\(report.expired)",
            "integrity_failures": "\(report.integrityFailures)", "unknown_app": "\(report.unknownApp)",
            "refused_files": "\(report.refusedFiles.count)", "ms": "\(Int(report.milliseconds))",
        ])
        return report
    }

    private func refuse(
        _ path: String, kind: String, reason: any Error, now: Int64, detail: Logger.Metadata
    ) -> String {
        let aside = "\(path).refused-\(now)"
        var metadata = detail
        metadata["file"] = "\(path)"
        metadata["reason"] = "\(reason)"
        do {
            try FileIO.move(path, aside)
            try? FileIO.syncDirectory(directory)
            metadata["moved_to"] = "\(aside)"
        } catch {
            metadata["move_failed"] = "\(error)"
        }
        logger.error("persistence: REFUSED \(kind) file: it failed verification; starting without it", metadata: metadata)
        return aside
    }

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

/// A thread that runs `body` every interval until stopped. Blocking file I/O runs here, never on event loops or
/// the cooperative pool.
final class BackgroundLoop: Sendable {
    private let stopSignal = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    init(name: String, intervalMilliseconds: Int64, runFirstImmediately: Bool, body: @escaping @Sendable () -> Void) {
        let interval = max(intervalMilliseconds, 1)
        let thread = Thread { [stopSignal, finished] in
            if runFirstImmediately { body() }
            while stopSignal.wait(timeout: .now() + .milliseconds(Int(interval))) == .timedOut {
                body()
            }
            finished.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Returns once the thread finished its current run.
    func stop() {
        stopSignal.signal()
        finished.wait()
    }
}
