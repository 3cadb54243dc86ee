#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import WXAuthPersistence
import WXAuthSessions

/// A disk that refuses writes (full, or failing) must never cost an acknowledged change: the change that could not
/// be written is refused, later changes are refused until the disk takes writes again, a torn append is cut back
/// so the journal stays one valid chain, and what was queued reaches the disk once it can.
@Suite("Disk full")
struct DiskFullTests {
    /// `journal_flush: always`: the failing write fails its LOGIN, half a record never stays in the file, and
    /// every LOGIN answered OK before, during (none) and after the failure survives a kill -9.
    @Test(arguments: [0, 1, 9, 40])
    func alwaysModeRefusesWhatItCannotWriteAndLosesNothingAcknowledged(tornAfterBytes: Int) throws {
        let fixture = try PersistenceFixture()
        let disk = DiskFaultInjection()
        try fixture.open(policy: .always, faults: disk)
        let before = try (0..<5).map { try fixture.login("before-\($0)").token }

        disk.failWrites(afterBytes: tornAfterBytes)
        #expect(throws: SessionError.storeUnavailable) { try fixture.login("during-the-failing-write") }
        #expect(!fixture.store.acceptsChanges)
        #expect(fixture.persistence?.health.acceptsChanges == false)
        // Refused before anything happens: no session, no revocation, no rotation.
        let entries = fixture.store.entryCount
        for index in 0..<20 {
            #expect(throws: SessionError.storeUnavailable) { try fixture.login("while-full-\(index)") }
        }
        #expect(throws: SessionError.storeUnavailable) { try fixture.store.revoke(before[0]) }
        #expect(throws: SessionError.storeUnavailable) { try fixture.store.refresh(before[1]) }
        #expect(throws: SessionError.storeUnavailable) {
            try fixture.store.revokeUser(appID: PersistenceFixture.appA, openid: "before-2")
        }
        #expect(fixture.store.entryCount == entries)
        #expect(fixture.outcome(before[0]).isValid, "reads keep working while the disk is full")
        #expect(fixture.log.contains("journal: write failed"))

        disk.heal()
        try fixture.persistence?.flushJournal()  // what the background thread does every flush interval
        #expect(fixture.store.acceptsChanges)
        #expect(fixture.log.contains("journal: writable again"))
        let after = try (0..<5).map { try fixture.login("after-\($0)").token }
        try fixture.store.revoke(before[3])

        killAndRestart(fixture)
        let report = try fixture.restart()
        #expect(report.refusedFiles.isEmpty, "the journal is one valid chain")
        #expect(report.tornTails == 0, "the torn append was cut back before the next record")
        for token in before where token != before[3] { #expect(fixture.outcome(token).isValid) }
        for token in after { #expect(fixture.outcome(token).isValid) }
        #expect(fixture.outcome(before[3]).error == .revoked)
    }

    /// `interval`: changes acknowledged before a failed flush stay queued (never dropped) and reach the disk when
    /// it recovers; while the flush fails, new changes are refused.
    @Test func intervalModeKeepsTheQueueThroughAFailedFlush() throws {
        let fixture = try PersistenceFixture()
        let disk = DiskFaultInjection()
        try fixture.open(policy: .interval, faults: disk)
        let flushedEarlier = try fixture.login("flushed-earlier").token
        try fixture.persistence?.flushJournal()
        let acknowledged = try (0..<10).map { try fixture.login("acknowledged-\($0)").token }

        disk.failWrites(afterBytes: 17)
        #expect(throws: IOFailure.self) { try fixture.persistence?.flushJournal() }
        #expect(!fixture.store.acceptsChanges)
        #expect(throws: SessionError.storeUnavailable) { try fixture.login("refused") }
        #expect(throws: IOFailure.self) { try fixture.persistence?.flushJournal() }  // still full: still queued
        #expect((fixture.persistence?.health.queuedBytes ?? 0) > 0)

        disk.heal()
        try fixture.persistence?.flushJournal()
        #expect(fixture.store.acceptsChanges)
        #expect(fixture.persistence?.health.queuedBytes == 0)
        let later = try fixture.login("later").token
        try fixture.persistence?.flushJournal()

        killAndRestart(fixture)
        let report = try fixture.restart()
        #expect(report.refusedFiles.isEmpty && report.tornTails == 0)
        for token in [flushedEarlier, later] + acknowledged { #expect(fixture.outcome(token).isValid) }
    }

    /// A failed fdatasync (EIO) is a failed write: the change is refused, and the data is written and synced
    /// again once the device answers.
    @Test func failedSyncRefusesTheChangeAndIsRetried() throws {
        let fixture = try PersistenceFixture()
        let disk = DiskFaultInjection()
        try fixture.open(policy: .always, faults: disk)
        let first = try fixture.login("first").token
        disk.failSyncs()
        #expect(throws: SessionError.storeUnavailable) { try fixture.login("unsynced") }
        #expect(throws: SessionError.storeUnavailable) { try fixture.login("refused") }
        disk.heal()
        try fixture.persistence?.flushJournal()
        let second = try fixture.login("second").token

        killAndRestart(fixture)
        let report = try fixture.restart()
        #expect(report.refusedFiles.isEmpty && report.tornTails == 0)
        #expect(fixture.outcome(first).isValid)
        #expect(fixture.outcome(second).isValid)
    }

    /// A snapshot on a full disk fails without leaving a partial file behind or losing the journal it would
    /// have compacted; the next one, once there is room, works.
    @Test func snapshotOnAFullDiskLeavesNothingBehind() throws {
        let fixture = try PersistenceFixture()
        let disk = DiskFaultInjection()
        try fixture.open(policy: .interval, faults: disk)
        let population = try SnapshotTests.populate(fixture)
        let filesBefore = fixture.files()

        for budget in [0, 30, 500] {
            disk.failWrites(afterBytes: budget)
            #expect(throws: (any Error).self) { try fixture.persistence?.snapshot() }
            disk.heal()
            // The queue may have been written by the snapshot's switch before the failure: flush to compare.
            try fixture.persistence?.flushJournal()
            #expect(!fixture.files().contains { $0.hasSuffix(".tmp") || $0.contains("snapshot.") }, "budget \(budget)")
            #expect(fixture.refusedFiles().isEmpty)
        }
        #expect(fixture.journalPaths().count >= filesBefore.filter { $0.hasPrefix("journal-") }.count)
        #expect(fixture.store.acceptsChanges)
        try fixture.persistence?.snapshot()

        killAndRestart(fixture)
        let report = try fixture.restart()
        #expect(report.refusedFiles.isEmpty)
        SnapshotTests.expectRestored(fixture, population)
    }

    /// kill -9: a new process finds exactly the bytes on disk now. The files are captured first, so whatever
    /// the orderly shutdown below would write on its way out does not count.
    private func killAndRestart(_ fixture: PersistenceFixture) {
        let names = fixture.files().filter { $0 != "lock" }
        let captured = names.compactMap { name in
            FileManager.default.contents(atPath: fixture.directory + "/" + name).map { (name, $0) }
        }
        fixture.persistence?.shutdown(finalSnapshot: false)
        fixture.persistence = nil
        for name in fixture.files() where name != "lock" {
            try? FileManager.default.removeItem(atPath: fixture.directory + "/" + name)
        }
        for (name, bytes) in captured {
            FileManager.default.createFile(atPath: fixture.directory + "/" + name, contents: bytes)
        }
    }
}
