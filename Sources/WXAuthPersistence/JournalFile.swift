#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import WXAuthCrypto
import WXAuthSessions

/// One journal file (`journal-<generation, 16 hex digits>.wal`): the changes made after snapshot `generation`'s
/// cut, as a chain of authenticated records.
///
///     header (48) | header tag (16) | record ...
///     record: length u32 | ~length u32 | payload (length bytes) | tag (16)
///     payload: sequence u64 (1, 2, ...) | entry count u16 | entry ...
///     tag = first 16 bytes of HMAC-SHA256(file mac key, previous tag || length u32 || payload)
///
/// The first "previous tag" is the header tag, HMAC-SHA256(file mac key, header) truncated to 16 bytes. Chaining
/// makes a removed, reordered or spliced record fail like an altered one.
///
/// `@unchecked Sendable`: `sequence`, `chain` and the cipher are only used under `JournalWriter`'s state lock.
final class JournalSegment: @unchecked Sendable {
    static let headerAreaSize = FileHeader.size + 16
    static let maxPayload = 16 * 1024 * 1024
    static let maxEntriesPerRecord = 4096

    let path: String
    let fd: Int32
    let generation: UInt64
    private let keys: FileKeys
    private var sequence: UInt64 = 0
    private var chain: Tag128

    static func fileName(generation: UInt64) -> String {
        let hex = String(generation, radix: 16)
        return "journal-" + String(repeating: "0", count: max(0, 16 - hex.count)) + hex + ".wal"
    }

    static func generation(ofFileName name: String) -> UInt64? {
        guard name.hasPrefix("journal-"), name.hasSuffix(".wal"), name.count == 8 + 16 + 4 else { return nil }
        return UInt64(name.dropFirst(8).dropLast(4), radix: 16)
    }

    /// Creates the file, writes and syncs its header, and syncs the directory so the file itself survives. A file
    /// whose header could not be written is removed again.
    init(
        directory: String, generation: UInt64, keyring: ServerKeyring, random: any RandomSource, now: Int64,
        faults: DiskFaultInjection? = nil
    ) throws {
        let path = directory + "/" + Self.fileName(generation: generation)
        let header = FileHeader(
            kind: .journal, keyID: keyring.primaryKeyID, generation: generation, createdAt: now,
            salt: try random.bytes(count: 16)
        )
        let keys = try FileKeys(keyring: keyring, header: header)
        let encoded = header.encoded()
        let headerTag = try encoded.withUnsafeBytes { raw throws(CryptoError) in try keys.mac.tag128(raw) }
        let fd = try FileIO.create(path)
        do {
            var area = encoded
            withUnsafeBytes(of: headerTag) { area.append(contentsOf: $0) }
            try FileIO.writeAll(fd, area, path: path, faults: faults)
            try FileIO.syncData(fd, path: path, faults: faults)
            try FileIO.syncDirectory(directory)
        } catch {
            close(fd)
            try? FileIO.remove(path)
            throw error
        }
        self.path = path
        self.fd = fd
        self.generation = generation
        self.keys = keys
        self.chain = headerTag
    }

    /// Closes the file and removes it (a segment that never became the journal's current one).
    func discard() {
        FileIO.close(fd)
        try? FileIO.remove(path)
    }

    /// Appends the framed, authenticated records for `entries` (split every 4096 entries) to `buffer`.
    func encode(_ entries: [PersistedEntry], into buffer: inout [UInt8]) throws(Refusal) {
        var start = 0
        repeat {
            let end = min(entries.count, start + Self.maxEntriesPerRecord)
            sequence += 1
            var payload = BinaryWriter(capacity: 64 + 160 * (end - start))
            payload.write(sequence)
            payload.write(UInt16(end - start))
            for (offset, entry) in entries[start..<end].enumerated() {
                try EntryCodec.encode(entry, into: &payload, cipher: keys.cipher, counter: sequence, index: UInt32(offset))
            }
            let length = UInt32(payload.bytes.count)
            chain = try Self.tag(keys: keys, previous: chain, length: length, payload: payload.bytes)
            var frame = BinaryWriter(capacity: 8 + payload.bytes.count + 16)
            frame.write(length)
            frame.write(~length)
            frame.write(raw: payload.bytes)
            frame.write(memoryOf: chain)
            buffer.append(contentsOf: frame.bytes)
            start = end
        } while start < entries.count
    }

    static func tag(keys: FileKeys, previous: Tag128, length: UInt32, payload: [UInt8]) throws(Refusal) -> Tag128 {
        var input = BinaryWriter(capacity: 20 + payload.count)
        input.write(memoryOf: previous)
        input.write(length)
        input.write(raw: payload)
        let outcome = input.bytes.withUnsafeBytes { raw in
            Result { () throws(CryptoError) in try keys.mac.tag128(raw) }
        }
        switch outcome {
        case .success(let tag): return tag
        case .failure(let error): throw .crypto(error.operation)
        }
    }
}

/// Reads a journal file record by record.
enum JournalReader {
    struct Outcome: Sendable {
        var records = 0
        var entries = 0
        /// Set when the file ends inside a record (a write cut short by a crash): that record is skipped.
        var tornTail: String?
        /// Set when an authenticated record fails (altered, corrupted, or from another file). Records before it
        /// were applied; nothing after it was.
        var refusal: Refusal?
    }

    /// Verifies each record's tag (chained from the header) before decoding it, then hands its entries to `body`.
    static func read(
        _ bytes: [UInt8], keyring: ServerKeyring, expectedGeneration: UInt64, _ body: (PersistedEntry) -> Void
    ) -> Outcome {
        bytes.withUnsafeBytes { raw in read(raw, keyring: keyring, expectedGeneration: expectedGeneration, body) }
    }

    private static func read(
        _ raw: UnsafeRawBufferPointer, keyring: ServerKeyring, expectedGeneration: UInt64,
        _ body: (PersistedEntry) -> Void
    ) -> Outcome {
        var outcome = Outcome()
        if raw.count < JournalSegment.headerAreaSize {
            outcome.tornTail = "the file ends inside its header (\(raw.count) bytes)"
            return outcome
        }
        do {
            let header = try FileHeader.decode(raw, kind: .journal)
            let keys = try FileKeys(keyring: keyring, header: header)
            let headerTag = try JournalSegment.tagOfHeader(keys: keys, raw: UnsafeRawBufferPointer(rebasing: raw[0..<FileHeader.size]))
            var reader = BinaryReader(raw, offset: FileHeader.size)
            let stored = try reader.read(memoryOf: Tag128.self, zero: Tag128(first: 0, second: 0))
            guard headerTag.matches(stored) else { throw Refusal.macMismatch }
            guard header.generation == expectedGeneration else { throw Refusal.generationMismatch }
            var chain = headerTag
            var sequence: UInt64 = 0
            while reader.remaining > 0 {
                let recordStart = reader.offset
                guard reader.remaining >= 8 else {
                    outcome.tornTail = "the file ends inside a record header at byte \(recordStart)"
                    break
                }
                let length = try reader.read(UInt32.self)
                let check = try reader.read(UInt32.self)
                guard check == ~length, Int(length) <= JournalSegment.maxPayload else {
                    if isZero(raw, from: recordStart) {
                        outcome.tornTail = "zero-filled tail at byte \(recordStart)"
                        break
                    }
                    throw Refusal.format("record framing at byte \(recordStart)")
                }
                guard reader.remaining >= Int(length) + 16 else {
                    outcome.tornTail = "the last record (byte \(recordStart)) is incomplete"
                    break
                }
                let payloadStart = reader.offset
                let payload = Array(try reader.readSlice(Int(length)))
                let tag = try reader.read(memoryOf: Tag128.self, zero: Tag128(first: 0, second: 0))
                let expected = try JournalSegment.tag(keys: keys, previous: chain, length: length, payload: payload)
                guard expected.matches(tag) else {
                    if isZero(raw, from: payloadStart) {
                        outcome.tornTail = "zero-filled tail at byte \(recordStart)"
                        break
                    }
                    throw Refusal.macMismatch
                }
                chain = tag
                sequence += 1
                let decodedSequence = sequence
                let decodedOutcome = payload.withUnsafeBytes { bytes in
                    Result { () throws(Refusal) in try decodeRecord(bytes, sequence: decodedSequence, keys: keys) }
                }
                let decoded = try decodedOutcome.get()
                for entry in decoded { body(entry) }
                outcome.records += 1
                outcome.entries += decoded.count
            }
        } catch let error as Refusal {
            outcome.refusal = error
        } catch {
            outcome.refusal = .format("\(error)")
        }
        return outcome
    }

    private static func decodeRecord(
        _ bytes: UnsafeRawBufferPointer, sequence: UInt64, keys: FileKeys
    ) throws(Refusal) -> [PersistedEntry] {
        var reader = BinaryReader(bytes)
        var decoded: [PersistedEntry] = []
        do {
            guard try reader.read(UInt64.self) == sequence else { throw Refusal.format("record sequence out of order") }
            let count = try reader.read(UInt16.self)
            for index in 0..<UInt32(count) {
                let kind = try reader.read(UInt8.self)
                decoded.append(try EntryCodec.decode(
                    kind: kind, from: &reader, cipher: keys.cipher, counter: sequence, index: index
                ))
            }
            guard reader.remaining == 0 else { throw Refusal.format("trailing bytes in a record") }
        } catch let error as Refusal {
            throw error
        } catch {
            throw Refusal.format("\(error)")
        }
        return decoded
    }

    private static func isZero(_ raw: UnsafeRawBufferPointer, from offset: Int) -> Bool {
        raw[offset...].allSatisfy { $0 == 0 }
    }
}

extension JournalSegment {
    static func tagOfHeader(keys: FileKeys, raw: UnsafeRawBufferPointer) throws(Refusal) -> Tag128 {
        do {
            return try keys.mac.tag128(raw)
        } catch {
            throw .crypto(error.operation)
        }
    }
}
