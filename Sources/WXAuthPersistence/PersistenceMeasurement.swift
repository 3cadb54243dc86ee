import Foundation
import Logging
import WXAuthCrypto
import WXAuthSessions

/// `wxauthd --measure-persistence N --data-dir DIR`: fills a store with N synthetic sessions and times what
/// persistence costs (numbers for BENCHMARKS.md). Uses its own ephemeral key; touches nothing but DIR.
public enum PersistenceMeasurement {
    public struct Result: Sendable, CustomStringConvertible {
        public var sessions: Int
        public var createMillisecondsWithoutJournal: Double
        public var createMillisecondsWithJournal: Double
        public var snapshotMilliseconds: Double
        public var snapshotBytes: Int
        public var loadMilliseconds: Double
        /// CPU time of the load summed over its threads (it decodes on every core): the wall time's floor on a
        /// machine where other work competes for the cores.
        public var loadCPUMilliseconds: Double
        public var restored: Int

        public var description: String {
            let perSession = sessions > 0 ? Double(snapshotBytes) / Double(sessions) : 0
            return """
                sessions:                       \(sessions)
                create, journal off:            \(String(format: "%.0f", createMillisecondsWithoutJournal)) ms (\(rate(createMillisecondsWithoutJournal))/s)
                create, journal on (interval):  \(String(format: "%.0f", createMillisecondsWithJournal)) ms (\(rate(createMillisecondsWithJournal))/s)
                snapshot write:                 \(String(format: "%.0f", snapshotMilliseconds)) ms
                snapshot size:                  \(snapshotBytes) bytes (\(String(format: "%.1f", perSession)) bytes/session)
                load (verify + restore):        \(String(format: "%.0f", loadMilliseconds)) ms, \(restored) restored
                load, CPU time (all threads):   \(String(format: "%.0f", loadCPUMilliseconds)) ms
                """
        }

        private func rate(_ milliseconds: Double) -> String {
            milliseconds > 0 ? String(format: "%.0f", Double(sessions) / milliseconds * 1000) : "-"
        }
    }

    public static func run(sessions: Int, directory: String, logger: Logger) throws -> Result {
        let appID = "wxmeasure0000001"
        let keyring = try ServerKeyring.ephemeral()
        let apps = AppRegistry([AppConfiguration(appID: appID, secret: "measure")])
        let capacity = SessionStoreConfiguration(maxEntries: max(sessions * 2, 16))
        let sessionKey = Data(try OpenSSLRandom().bytes(count: 16)).base64EncodedString()
        func fill(_ store: SessionStore) throws -> Double {
            let start = DispatchTime.now()
            for index in 0..<sessions {
                let openid = "oMeasure" + String(index, radix: 36).padding(toLength: 20, withPad: "_", startingAt: 0)
                _ = try store.create(
                    appID: appID, openid: openid, unionid: index % 2 == 0 ? "oUnion" + openid : nil,
                    sessionKeyBase64: sessionKey
                )
            }
            return milliseconds(since: start)
        }

        // LOGIN's store work without a journal, then with one attached (interval policy: encode + buffer).
        let bare = SessionStore(configuration: capacity, keyring: keyring, apps: apps)
        let withoutJournal = try fill(bare)

        try? FileManager.default.removeItem(atPath: directory)
        let configuration = PersistenceConfiguration(directory: directory)
        let store = SessionStore(configuration: capacity, keyring: keyring, apps: apps)
        let persistence = try SessionPersistence(configuration: configuration, store: store, logger: logger)
        try persistence.start(snapshotNow: false)
        let withJournal = try fill(store)
        try persistence.flushJournal()
        let snapshot = try persistence.snapshot()
        persistence.shutdown(finalSnapshot: false)

        let reloaded = SessionStore(configuration: capacity, keyring: keyring, apps: apps)
        let loader = try SessionPersistence(configuration: configuration, store: reloaded, logger: logger)
        let start = DispatchTime.now()
        let cpuStart = processCPUMilliseconds()
        let report = loader.load()
        let load = milliseconds(since: start)
        let loadCPU = processCPUMilliseconds() - cpuStart
        loader.shutdown(finalSnapshot: false)
        return Result(
            sessions: sessions, createMillisecondsWithoutJournal: withoutJournal, createMillisecondsWithJournal: withJournal,
            snapshotMilliseconds: snapshot.milliseconds, snapshotBytes: snapshot.bytes, loadMilliseconds: load,
            loadCPUMilliseconds: loadCPU,
            restored: report.restored
        )
    }

    private static func processCPUMilliseconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &spec)
        return Double(spec.tv_sec) * 1000 + Double(spec.tv_nsec) / 1e6
    }

    private static func milliseconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
    }
}
