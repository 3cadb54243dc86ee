import Foundation
import Testing
import WXAuthCrypto
import WXAuthPersistence
import WXAuthSessions

@Suite("Journal")
struct JournalTests {
    /// A crash after the flush: no final snapshot, only the journal (the snapshot never existed).
    @Test(arguments: JournalFlushPolicy.allCases)
    func crashAfterFlushRestoresFromTheJournalAlone(policy: JournalFlushPolicy) throws {
        let fixture = try PersistenceFixture()
        try fixture.open(policy: policy)
        let population = try SnapshotTests.populate(fixture)
        fixture.crash()
        #expect(!FileManager.default.fileExists(atPath: fixture.snapshotPath))

        let report = try fixture.restart()
        #expect(report.refusedFiles.isEmpty && report.tornTails == 0)
        #expect(report.journalEntries > 0)
        SnapshotTests.expectRestored(fixture, population)
    }

    /// Snapshot, then more changes in the journal, then a crash: both are combined.
    @Test func snapshotPlusJournal() throws {
        let fixture = try PersistenceFixture()
        try fixture.open()
        let before = try fixture.login("before").token
        let revokedLater = try fixture.login("revoked-later").token
        try fixture.persistence?.snapshot()
        let after = try fixture.login("after").token
        try fixture.store.revoke(revokedLater)
        fixture.crash()

        let report = try fixture.restart()
        #expect(report.snapshotEntries == 2)
        #expect(report.refusedFiles.isEmpty)
        #expect(fixture.outcome(before).isValid)
        #expect(fixture.outcome(after).isValid)
        #expect(fixture.outcome(revokedLater).error == .revoked)
    }

    /// Changes lost before the flush are really lost (the documented window), nothing else is.
    @Test func unflushedChangesAreTheOnlyLoss() throws {
        let fixture = try PersistenceFixture()
        try fixture.open(policy: .interval)
        let flushed = try fixture.login("flushed").token
        try fixture.persistence?.flushJournal()
        // Simulate kill -9 before the next flush: copy the files as they are on disk now.
        let pending = try fixture.login("pending").token
        let copy = fixture.directory + "-copy"
        try FileManager.default.copyItem(atPath: fixture.directory, toPath: copy)
        defer { try? FileManager.default.removeItem(atPath: copy) }
        try? FileManager.default.removeItem(atPath: copy + "/lock")
        let store = SessionStore(keyring: fixture.keyring, apps: PersistenceFixture.apps, clock: fixture.clock)
        let other = try SessionPersistence(configuration: PersistenceConfiguration(directory: copy), store: store, logger: fixture.log.logger)
        other.load()
        other.shutdown(finalSnapshot: false)
        #expect((try? store.validate(flushed)) != nil)
        #expect((try? store.validate(pending)) == nil)
    }

    @Test func tornLastRecordIsToleratedAndLogged() throws {
        let fixture = try PersistenceFixture()
        try fixture.open()
        let first = try fixture.login("first").token
        try fixture.persistence?.flushJournal()
        let journal = try #require(fixture.journalPaths().last)
        let sizeAfterFirst = try Data(contentsOf: URL(fileURLWithPath: journal)).count
        let second = try fixture.login("second").token
        fixture.crash()
        let full = try Data(contentsOf: URL(fileURLWithPath: journal))
        #expect(full.count > sizeAfterFirst)

        for cut in sizeAfterFirst + 1..<full.count {
            try full.prefix(cut).write(to: URL(fileURLWithPath: journal))
            let report = try fixture.restart()
            fixture.crash()
            #expect(report.tornTails == 1, "cut at \(cut)")
            #expect(report.refusedFiles.isEmpty, "cut at \(cut)")
            #expect(fixture.outcome(first).isValid, "cut at \(cut)")
            #expect(fixture.outcome(second).error == .invalidToken, "cut at \(cut)")
            for path in fixture.journalPaths() where path != journal { try FileManager.default.removeItem(atPath: path) }
        }
        #expect(fixture.log.contains("journal ends inside a record"))
    }

    @Test func zeroFilledTailAfterAPowerLossIsTolerated() throws {
        let fixture = try PersistenceFixture()
        try fixture.open()
        let first = try fixture.login("first").token
        fixture.crash()
        let journal = try #require(fixture.journalPaths().first)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: journal))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(repeating: 0, count: 300))
        try handle.close()
        let report = try fixture.restart()
        #expect(report.tornTails == 1 && report.refusedFiles.isEmpty)
        #expect(fixture.outcome(first).isValid)
    }

    @Test func oneFlippedByteAnywhereIsDetected() throws {
        let fixture = try PersistenceFixture()
        try fixture.open()
        _ = try SnapshotTests.populate(fixture)
        fixture.crash()
        let journal = try #require(fixture.journalPaths().first)
        let original = try Data(contentsOf: URL(fileURLWithPath: journal))
        #expect(original.count > 300)

        for offset in 0..<original.count {
            var altered = original
            altered[offset] ^= 0x10
            try altered.write(to: URL(fileURLWithPath: journal))
            let report = try fixture.restart()
            fixture.crash()
            #expect(report.refusedFiles.count == 1, "byte \(offset)")
            #expect(!FileManager.default.fileExists(atPath: journal), "byte \(offset)")
            for name in fixture.refusedFiles() { try FileManager.default.removeItem(atPath: fixture.directory + "/" + name) }
            for path in fixture.journalPaths() { try FileManager.default.removeItem(atPath: path) }
        }
        #expect(fixture.log.contains("REFUSED journal file"))
    }

    /// A tampered record: the authenticated records before it are applied (they are exactly what the server wrote,
    /// revocations included); it and everything after it are not; the file is moved aside.
    @Test func tamperedRecordStopsReplayThere() throws {
        let fixture = try PersistenceFixture()
        try fixture.open()
        let alice = try fixture.login("alice").token
        try fixture.store.revoke(alice)
        try fixture.persistence?.flushJournal()
        let journal = try #require(fixture.journalPaths().last)
        let goodPrefix = try Data(contentsOf: URL(fileURLWithPath: journal)).count
        let bob = try fixture.login("bob").token
        fixture.crash()
        var bytes = try Data(contentsOf: URL(fileURLWithPath: journal))
        bytes[goodPrefix + 20] ^= 0x01  // inside bob's record
        try bytes.write(to: URL(fileURLWithPath: journal))

        let report = try fixture.restart()
        #expect(report.refusedFiles.count == 1)
        #expect(fixture.outcome(alice).error == .revoked)
        #expect(fixture.outcome(bob).error == .invalidToken)
        #expect(fixture.log.contains("records_applied_before_the_failure=2"))
    }

    /// Records cannot be moved between journal files (each file has its own keys and chain).
    @Test func recordsSplicedFromAnotherFileAreRefused() throws {
        let fixture = try PersistenceFixture()
        try fixture.open()
        _ = try fixture.login("alice")
        fixture.crash()
        let first = try #require(fixture.journalPaths().first)
        let firstBytes = try Data(contentsOf: URL(fileURLWithPath: first))
        try fixture.restart()
        _ = try fixture.login("bob")
        fixture.crash()
        let second = try #require(fixture.journalPaths().last)
        #expect(first != second)
        var secondBytes = try Data(contentsOf: URL(fileURLWithPath: second))
        secondBytes.append(firstBytes.suffix(from: 64))
        try secondBytes.write(to: URL(fileURLWithPath: second))
        let report = try fixture.restart()
        #expect(report.refusedFiles.count == 1)
    }

    /// Replay is order-independent: a revocation journaled before the LOGIN it revokes still wins.
    @Test func concurrentChangesReplayToTheFinalState() async throws {
        let fixture = try PersistenceFixture()
        try fixture.open(policy: .interval)
        let store = fixture.store
        let tokens = try (0..<200).map { try fixture.login("user\($0 % 20)").token }
        await withTaskGroup(of: Void.self) { group in
            for (index, token) in tokens.enumerated() {
                group.addTask {
                    switch index % 4 {
                    case 0: try? store.revoke(token)
                    case 1: _ = try? store.refresh(token)
                    case 2: _ = try? store.revokeUser(appID: PersistenceFixture.appA, openid: "user\(index % 20)")
                    default: _ = try? store.validate(token)
                    }
                }
            }
        }
        var expected: [String: SessionError?] = [:]
        for token in tokens { expected[token] = fixture.outcome(token).error }
        fixture.crash()
        try fixture.restart()
        for token in tokens {
            #expect(fixture.outcome(token).error == expected[token]!, "token \(tokens.firstIndex(of: token)!)")
        }
    }
}
