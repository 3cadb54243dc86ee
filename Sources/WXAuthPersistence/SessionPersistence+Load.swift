#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Logging
import WXAuthSessions

/// Start-up: the snapshot and the journal files read back into the store, and files that fail verification moved
/// aside.
extension SessionPersistence {
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
}
