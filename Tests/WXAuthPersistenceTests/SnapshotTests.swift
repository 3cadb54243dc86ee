import Foundation
import Testing
import WXAuthCrypto
import WXAuthPersistence
import WXAuthSessions

@Suite("Snapshots")
struct SnapshotTests {
    /// Sessions of every kind: live (with and without unionid, two apps), rotated with its successor, revoked,
    /// and a user revoked as a whole.
    struct Population {
        var live: [String] = []
        var revoked: [String] = []
        var rotatedOld = ""
        var rotatedNew = ""
    }

    static func populate(_ fixture: PersistenceFixture) throws -> Population {
        var population = Population()
        population.live.append(try fixture.login("alice", unionid: "uAlice").token)
        population.live.append(try fixture.login("bob", app: PersistenceFixture.appB).token)
        let carol = try fixture.login("carol").token
        let refreshed = try fixture.store.refresh(carol)
        population.rotatedOld = carol
        population.rotatedNew = refreshed.token
        let dave = try fixture.login("dave").token
        try fixture.store.revoke(dave)
        population.revoked.append(dave)
        population.revoked.append(try fixture.login("erin").token)
        population.revoked.append(try fixture.login("erin").token)
        #expect(try fixture.store.revokeUser(appID: PersistenceFixture.appA, openid: "erin") == 2)
        return population
    }

    static func expectRestored(_ fixture: PersistenceFixture, _ population: Population) {
        for token in population.live + [population.rotatedNew] {
            #expect(fixture.outcome(token).isValid)
        }
        for token in population.revoked {
            #expect(fixture.outcome(token).error == .revoked)
        }
        #expect(fixture.outcome(population.rotatedOld).error == .revoked)
    }

    @Test func gracefulRestartRestoresEverySessionAndEveryRevocation() throws {
        let fixture = try PersistenceFixture()
        try fixture.open()
        let population = try Self.populate(fixture)
        let view = try fixture.store.validate(population.live[0])
        fixture.stop()
        #expect(FileManager.default.fileExists(atPath: fixture.snapshotPath))

        let report = try fixture.restart()
        #expect(report.refusedFiles.isEmpty)
        #expect(report.integrityFailures == 0)
        #expect(report.snapshotEntries == 7)
        Self.expectRestored(fixture, population)
        let again = try fixture.store.validate(population.live[0])
        #expect(again.openid == view.openid && again.unionid == "uAlice" && again.createdAt == view.createdAt)
        // The grace window survives too: a repeated REFRESH of the old token returns the same new token.
        #expect(try fixture.store.refresh(population.rotatedOld).token == population.rotatedNew)
    }

    @Test("a snapshot larger than one decoding chunk is restored whole (chunks decoded in parallel)")
    func snapshotOfSeveralChunks() throws {
        let fixture = try PersistenceFixture()
        try fixture.open()
        var tokens: [(token: String, openid: String, unionid: String)] = []
        for index in 0..<40_000 {
            // Every third openid longer than the inline storage, every other one with a unionid.
            let openid = index % 3 == 0 ? "o-long-" + String(repeating: "x", count: 30) + "\(index)" : "o\(index)"
            let unionid = index % 2 == 0 ? "u\(index)" : ""
            tokens.append((try fixture.login(openid, unionid: unionid.isEmpty ? nil : unionid).token, openid, unionid))
        }
        fixture.stop()
        let report = try fixture.restart()
        #expect(report.snapshotEntries == 40_000 && report.restored == 40_000 && report.refusedFiles.isEmpty)
        #expect(report.integrityFailures == 0)
        for (token, openid, unionid) in tokens.enumerated().filter({ $0.offset % 97 == 0 }).map(\.element) {
            let session = try fixture.store.validate(token)
            #expect(session.openid == openid && session.unionid == unionid)
        }
    }

    @Test func filesAreOwnerOnlyAndNeverContainTheSessionKeyInClear() throws {
        let fixture = try PersistenceFixture()
        try fixture.open()
        _ = try fixture.login("alice")
        try fixture.persistence?.flushJournal()
        fixture.stop()
        #expect(!fixture.journalPaths().isEmpty)
        for path in [fixture.snapshotPath] + fixture.journalPaths() {
            let mode = try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
            #expect(mode == 0o600, "\(path)")
        }
        let snapshot = try Data(contentsOf: URL(fileURLWithPath: fixture.snapshotPath))
        #expect(snapshot.range(of: Data(PersistenceFixture.sessionKeyBytes)) == nil)
        #expect(snapshot.range(of: Data("alice".utf8)) != nil)  // openid is not secret; the session_key is
        let directoryMode = try #require(FileManager.default.attributesOfItem(atPath: fixture.directory)[.posixPermissions] as? Int)
        #expect(directoryMode == 0o700)
    }

    @Test func oneFlippedByteAnywhereIsRefusedAndMovedAside() throws {
        let fixture = try PersistenceFixture()
        try fixture.open()
        _ = try Self.populate(fixture)
        fixture.stop()
        let original = try Data(contentsOf: URL(fileURLWithPath: fixture.snapshotPath))
        // Only the snapshot: journals are tested separately.
        for path in fixture.journalPaths() { try FileManager.default.removeItem(atPath: path) }
        #expect(original.count > 200)

        for offset in 0..<original.count {
            var altered = original
            altered[offset] ^= 0x04
            try altered.write(to: URL(fileURLWithPath: fixture.snapshotPath))
            let report = try fixture.restart()
            fixture.crash()
            #expect(report.refusedFiles.count == 1, "byte \(offset)")
            #expect(report.restored == 0, "byte \(offset)")
            #expect(!FileManager.default.fileExists(atPath: fixture.snapshotPath), "byte \(offset)")
            for name in fixture.refusedFiles() { try FileManager.default.removeItem(atPath: fixture.directory + "/" + name) }
            for path in fixture.journalPaths() { try FileManager.default.removeItem(atPath: path) }
        }
        #expect(fixture.log.contains("REFUSED snapshot file"))
        #expect(fixture.log.contains("MAC mismatch"))
    }

    @Test func refusedSnapshotLeavesTheFileAsideAndTheServiceEmpty() throws {
        let fixture = try PersistenceFixture()
        try fixture.open()
        let alice = try fixture.login("alice").token
        fixture.stop()
        var bytes = try Data(contentsOf: URL(fileURLWithPath: fixture.snapshotPath))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: fixture.snapshotPath))
        let report = try fixture.restart()
        #expect(report.refusedFiles.count == 1)
        #expect(fixture.refusedFiles().count == 1)
        #expect(try Data(contentsOf: URL(fileURLWithPath: fixture.directory + "/" + fixture.refusedFiles()[0])) == bytes)
        #expect(fixture.outcome(alice).error == .invalidToken)
        // And it keeps working: a new session persists.
        let bob = try fixture.login("bob").token
        fixture.stop()
        try fixture.restart()
        #expect(fixture.outcome(bob).isValid)
    }

    @Test func sessionsThatExpiredWhileDownAreGone() throws {
        let fixture = try PersistenceFixture()
        try fixture.open()
        let idle = try fixture.login("idle").token
        let busy = try fixture.login("busy").token
        let revoked = try fixture.login("revoked").token
        try fixture.store.revoke(revoked)
        fixture.clock.advance(milliseconds: PersistenceFixture.idle - 10_000)
        _ = try fixture.store.validate(busy)
        fixture.stop()

        fixture.clock.advance(milliseconds: 20_000)  // idle is now past its idle deadline; busy is not
        let report = try fixture.restart()
        #expect(report.expired == 1)
        #expect(fixture.outcome(idle).error == .invalidToken)
        #expect(fixture.outcome(busy).isValid)
        #expect(fixture.outcome(revoked).error == .revoked)

        fixture.stop()
        fixture.clock.advance(milliseconds: PersistenceFixture.absolute)  // past every absolute deadline
        let later = try fixture.restart()
        #expect(later.restored == 0)
        #expect(fixture.outcome(busy).error == .invalidToken)
        // The revoked token's tombstone is forgotten only once its session could not be valid anyway.
        #expect(fixture.outcome(revoked).error == .invalidToken)
    }

    @Test func snapshotUnderARemovedKeyIsRefusedAndRecordsUnderAnOldKeyStillLoad() throws {
        let both = try PersistenceFixture.keyring(ids: [1, 2], primary: 1)
        let fixture = try PersistenceFixture(keyring: both)
        try fixture.open()
        let alice = try fixture.login("alice").token
        let carol = try fixture.login("carol").token
        fixture.stop()

        // Rotation: key 2 becomes primary; the file (under key 1) and the records still load. Validating alice
        // re-signs her record under key 2; carol's is left under key 1.
        let rotated = try PersistenceFixture.keyring(ids: [1, 2], primary: 2)
        try fixture.restart(keyring: rotated)
        #expect(fixture.outcome(alice).isValid)
        let bob = try fixture.login("bob").token
        fixture.stop()  // the snapshot is now under key 2

        // Key 1 removed: carol's record no longer verifies and is dropped at load. (Alice's record loads, but her
        // token names key 1, so it is rejected like any token of a removed key.) Bob stays.
        let onlyTwo = try PersistenceFixture.keyring(ids: [2], primary: 2)
        let report = try fixture.restart(keyring: onlyTwo)
        #expect(report.integrityFailures == 1)
        #expect(report.refusedFiles.isEmpty)
        #expect(fixture.outcome(carol).error == .invalidToken)
        #expect(fixture.outcome(alice).error == .invalidToken)
        #expect(fixture.outcome(bob).isValid)
        fixture.stop()

        // A snapshot under a key that is gone entirely is refused with a clear reason.
        let onlyThree = try PersistenceFixture.keyring(ids: [3], primary: 3)
        let refused = try fixture.restart(keyring: onlyThree)
        #expect(refused.refusedFiles.count == 2)  // the snapshot and the (empty) journal opened after it
        #expect(fixture.log.contains("server key id 2, which is not configured"))
    }

    @Test func leftoverTemporaryFileFromACrashIsIgnored() throws {
        let fixture = try PersistenceFixture()
        try fixture.open()
        let alice = try fixture.login("alice").token
        fixture.stop()
        try Data([1, 2, 3, 4]).write(to: URL(fileURLWithPath: fixture.directory + "/sessions.snapshot.tmp"))
        let report = try fixture.restart()
        #expect(report.refusedFiles.isEmpty)
        #expect(fixture.outcome(alice).isValid)
        #expect(!fixture.files().contains("sessions.snapshot.tmp"))
        #expect(fixture.log.contains("removed an incomplete snapshot"))
    }

    @Test func aSecondProcessCannotShareTheDirectory() throws {
        let fixture = try PersistenceFixture()
        try fixture.open()
        #expect(throws: PersistenceStartError.self) {
            try SessionPersistence(
                configuration: PersistenceConfiguration(directory: fixture.directory), store: fixture.store,
                logger: fixture.log.logger
            )
        }
    }

    @Test func logsNeverContainTokensOrSessionKeys() throws {
        let fixture = try PersistenceFixture()
        try fixture.open()
        let population = try Self.populate(fixture)
        fixture.stop()
        var bytes = try Data(contentsOf: URL(fileURLWithPath: fixture.snapshotPath))
        bytes[60] ^= 1
        try bytes.write(to: URL(fileURLWithPath: fixture.snapshotPath))
        try fixture.restart()
        let text = fixture.log.all.joined(separator: "\n")
        for token in population.live + population.revoked + [population.rotatedOld, population.rotatedNew] {
            #expect(!text.contains(token))
        }
        #expect(!text.contains(PersistenceFixture.sessionKey))
        #expect(!text.lowercased().contains(PersistenceFixture.sessionKeyBytes.map { String(format: "%02x", $0) }.joined()))
    }
}
