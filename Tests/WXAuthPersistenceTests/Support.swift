import Foundation
import Logging
import Synchronization
import WXAuthCrypto
import WXAuthPersistence
import WXAuthSessions

/// Log lines captured from one logger (no global bootstrap), to check what persistence says and never says.
final class CapturedLog: Sendable {
    private let lines = Mutex<[String]>([])

    var logger: Logger {
        Logger(label: "test.persistence") { [self] label in Handler(sink: self) }
    }

    var all: [String] { lines.withLock { $0 } }

    func contains(_ text: String) -> Bool { all.contains { $0.contains(text) } }

    fileprivate func append(_ line: String) { lines.withLock { $0.append(line) } }

    private struct Handler: LogHandler {
        let sink: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let extra = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            sink.append("\(event.level) \(event.message) \(extra)")
        }
    }
}

/// A store on a manual clock with two apps, a temporary data directory, and helpers to "restart" (a new store on
/// the same directory and clock).
final class PersistenceFixture {
    static let appA = "wxAAAAAAAAAAAAAAAA"
    static let appB = "wxBBBBBBBBBBBBBBBB"
    static let sessionKeyBytes: [UInt8] = (0..<16).map { UInt8(0xA0 + $0) }
    static let sessionKey = Data(sessionKeyBytes).base64EncodedString()
    static let idle: Int64 = 60_000
    static let absolute: Int64 = 600_000

    let directory: String
    let clock = ManualWallClock()
    let keyring: ServerKeyring
    let log = CapturedLog()
    var store: SessionStore
    var persistence: SessionPersistence?

    init(keyring: ServerKeyring? = nil) throws {
        directory = NSTemporaryDirectory() + "wxauth-persist-" + UUID().uuidString
        self.keyring = try keyring ?? Self.keyring(ids: [1], primary: 1)
        store = SessionStore(keyring: self.keyring, apps: Self.apps, clock: clock)
    }

    deinit {
        persistence?.shutdown(finalSnapshot: false)
        try? FileManager.default.removeItem(atPath: directory)
    }

    static var apps: AppRegistry {
        AppRegistry([
            AppConfiguration(appID: appA, secret: "a", idleTimeoutMilliseconds: idle, absoluteLifetimeMilliseconds: absolute),
            AppConfiguration(appID: appB, secret: "b", idleTimeoutMilliseconds: idle, absoluteLifetimeMilliseconds: absolute),
        ])
    }

    static func keyring(ids: [UInt8], primary: UInt8) throws -> ServerKeyring {
        try ServerKeyring(keys: ids.map { .init(id: $0, secret: [UInt8](repeating: $0 &* 17, count: 32)) }, primary: primary)
    }

    var snapshotPath: String { directory + "/sessions.snapshot" }

    func files() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted() }

    func journalPaths() -> [String] { files().filter { $0.hasPrefix("journal-") && $0.hasSuffix(".wal") }.map { directory + "/" + $0 } }

    func refusedFiles() -> [String] { files().filter { $0.contains(".refused-") } }

    /// Opens persistence on the current store (load + start). `snapshotNow: false` keeps files predictable.
    @discardableResult
    func open(
        policy: JournalFlushPolicy = .interval, keyring: ServerKeyring? = nil, faults: DiskFaultInjection? = nil
    ) throws -> SessionPersistence.LoadReport {
        if let keyring { store = SessionStore(keyring: keyring, apps: Self.apps, clock: clock) }
        var configuration = PersistenceConfiguration(directory: directory)
        configuration.flushPolicy = policy
        configuration.diskFaults = faults
        configuration.snapshotIntervalMilliseconds = 3_600_000
        configuration.flushIntervalMilliseconds = 3_600_000  // tests flush explicitly
        let persistence = try SessionPersistence(configuration: configuration, store: store, logger: log.logger)
        let report = persistence.load()
        try persistence.start(snapshotNow: false)
        self.persistence = persistence
        return report
    }

    /// A crash after the journal reached the disk: flush, release the lock, no final snapshot.
    func crash() {
        try? persistence?.flushJournal()
        persistence?.shutdown(finalSnapshot: false)
        persistence = nil
    }

    /// A graceful stop: final snapshot.
    func stop() {
        persistence?.shutdown()
        persistence = nil
    }

    /// A new process: an empty store on the same directory, keys and clock, then load.
    @discardableResult
    func restart(policy: JournalFlushPolicy = .interval, keyring: ServerKeyring? = nil) throws -> SessionPersistence.LoadReport {
        store = SessionStore(keyring: keyring ?? self.keyring, apps: Self.apps, clock: clock)
        return try open(policy: policy)
    }

    @discardableResult
    func login(_ openid: String, app: String = PersistenceFixture.appA, unionid: String? = nil) throws -> SessionStore.Issued {
        try store.create(appID: app, openid: openid, unionid: unionid, sessionKeyBase64: Self.sessionKey)
    }

    func outcome(_ token: String) -> Result<SessionSnapshot, SessionError> {
        Result { () throws(SessionError) in try store.validate(token) }
    }
}

import WXAuthProtocol

extension Result where Success == SessionSnapshot, Failure == SessionError {
    var error: SessionError? {
        if case .failure(let error) = self { return error }
        return nil
    }

    var isValid: Bool {
        if case .success = self { return true }
        return false
    }
}
