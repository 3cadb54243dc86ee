#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization
import WXAuthCrypto
import WXAuthSessions

/// The snapshot: every live session and remembered tombstone at one moment, written crash-safely and verified as a
/// whole on load.
///
///     header (48) | entry ... | 0x00 | entry count u64 | HMAC-SHA256 (32) over every byte before it
///
/// Written to `sessions.snapshot.tmp`, fsynced, renamed over `sessions.snapshot`, then the directory is fsynced:
/// a crash at any point leaves either the previous snapshot or the new one, never a mix.
enum SnapshotFile {
    static let name = "sessions.snapshot"
    static let temporaryName = "sessions.snapshot.tmp"
    static let trailerSize = 1 + 8 + 32

    struct Written: Sendable {
        var entries: Int
        var bytes: Int
    }

    /// Writes the store's current entries as snapshot `generation`. `afterTemporaryWrite` runs once the temporary
    /// file is complete and synced, before the rename (tests pause there).
    static func write(
        store: SessionStore, directory: String, generation: UInt64, keyring: ServerKeyring, random: any RandomSource,
        now: Int64, faults: DiskFaultInjection? = nil, afterTemporaryWrite: () -> Void = {}
    ) throws -> Written {
        let temporary = directory + "/" + temporaryName
        let header = FileHeader(
            kind: .snapshot, keyID: keyring.primaryKeyID, generation: generation, createdAt: now,
            salt: try random.bytes(count: 16)
        )
        let keys = try FileKeys(keyring: keyring, header: header)
        let mac = try HMACSHA256Stream(key: keys.macSecret)
        let fd = try FileIO.create(temporary)
        var closed = false
        defer {
            if !closed {
                // A snapshot that failed half-way (disk full) must not keep the space it took.
                close(fd)
                try? FileIO.remove(temporary)
            }
        }

        var total = 0
        var buffer = BinaryWriter(capacity: 1 << 20 + 4096)
        func drain() throws {
            try FileIO.writeAll(fd, buffer.bytes, path: temporary, faults: faults)
            try mac.update(buffer.bytes)
            total += buffer.bytes.count
            buffer.bytes.removeAll(keepingCapacity: true)
        }
        buffer.write(raw: header.encoded())
        var count: UInt64 = 0
        try store.forEachPersistedEntry(now: now) { entry throws in
            try EntryCodec.encode(entry, into: &buffer, cipher: keys.cipher, counter: count, index: 0)
            count += 1
            if buffer.bytes.count >= 1 << 20 { try drain() }
        }
        buffer.write(UInt8(0))
        buffer.write(count)
        try drain()
        let tag = try mac.finalize()
        try FileIO.writeAll(fd, tag, path: temporary, faults: faults)
        total += tag.count
        try FileIO.sync(fd, path: temporary, faults: faults)
        close(fd)
        closed = true
        afterTemporaryWrite()
        try FileIO.move(temporary, directory + "/" + name)
        try FileIO.syncDirectory(directory)
        return Written(entries: Int(count), bytes: total)
    }

    /// Verifies the whole file's MAC, then hands every entry to `restore`. Nothing reaches `restore` unless the MAC
    /// verified. `willRestore` first learns how many entries follow (the store sizes its tables once). The
    /// entries are decoded and restored in chunks on every core (`restore` must be thread-safe, as
    /// `SessionStore.restore` is; their order does not matter, since a snapshot holds each token once); the
    /// outcomes are returned counted.
    static func read(
        _ bytes: [UInt8], keyring: ServerKeyring, willRestore: (Int) -> Void = { _ in },
        _ restore: @Sendable (PersistedEntry) -> RestoreOutcome
    ) throws(Refusal) -> (header: FileHeader, outcomes: [RestoreOutcome: Int]) {
        let outcome = bytes.withUnsafeBytes { raw in
            Result { () throws(Refusal) -> (header: FileHeader, outcomes: [RestoreOutcome: Int]) in
                try read(raw, keyring: keyring, willRestore: willRestore, restore)
            }
        }
        return try outcome.get()
    }

    /// Entries per unit of parallel work.
    static let chunkSize = 16_384

    private struct Chunk {
        var offset: Int
        var firstIndex: UInt64
        var count: Int
    }

    private static func read(
        _ raw: UnsafeRawBufferPointer, keyring: ServerKeyring, willRestore: (Int) -> Void,
        _ restore: @Sendable (PersistedEntry) -> RestoreOutcome
    ) throws(Refusal) -> (header: FileHeader, outcomes: [RestoreOutcome: Int]) {
        let header = try FileHeader.decode(raw, kind: .snapshot)
        guard raw.count >= FileHeader.size + trailerSize else { throw .format("file too short") }
        let keys = try FileKeys(keyring: keyring, header: header)
        let covered = UnsafeRawBufferPointer(rebasing: raw[0..<raw.count - 32])
        let stored = UnsafeRawBufferPointer(rebasing: raw[raw.count - 32..<raw.count])
        let expected: [UInt8]
        do {
            let stream = try HMACSHA256Stream(key: keys.macSecret)
            try stream.update(covered)
            expected = try stream.finalize()
        } catch {
            throw .crypto(error.operation)
        }
        guard expected.withUnsafeBytes({ constantTimeEquals($0, stored) }) else { throw .macMismatch }

        // Pass 1 (cheap): entry boundaries, in chunks; checks the structure and the count before anything is used.
        var chunks: [Chunk] = []
        var reader = BinaryReader(covered, offset: FileHeader.size)
        var count: UInt64 = 0
        do {
            while true {
                let start = reader.offset
                let kind = try reader.read(UInt8.self)
                if kind == 0 { break }
                if count % UInt64(chunkSize) == 0 { chunks.append(Chunk(offset: start, firstIndex: count, count: 0)) }
                chunks[chunks.count - 1].count += 1
                try EntryCodec.skip(kind: kind, from: &reader)
                count += 1
            }
            guard try reader.read(UInt64.self) == count, reader.remaining == 0 else {
                throw Refusal.format("entry count does not match")
            }
        } catch let error as Refusal {
            throw error
        } catch {
            throw .format("\(error)")
        }
        willRestore(Int(count))

        // Pass 2: decode (AES-GCM per session_key, each chunk with its own cipher context) and restore, in parallel.
        let tallies = Mutex<[RestoreOutcome: Int]>([:])
        let failure = Mutex<Refusal?>(nil)
        let file = UnsafeSendableBytes(bytes: covered)
        let boundaries = chunks
        DispatchQueue.concurrentPerform(iterations: boundaries.count) { index in
            let chunk = boundaries[index]
            var tally: [RestoreOutcome: Int] = [:]
            do throws(Refusal) {
                let keys = try FileKeys(keyring: keyring, header: header)
                var cache = EntryCodec.DecodingCache()
                var reader = BinaryReader(file.bytes, offset: chunk.offset)
                for position in 0..<chunk.count {
                    let kind: UInt8
                    do {
                        kind = try reader.read(UInt8.self)
                    } catch {
                        throw .format("\(error)")
                    }
                    let entry = try EntryCodec.decode(
                        kind: kind, from: &reader, cipher: keys.cipher, counter: chunk.firstIndex + UInt64(position),
                        index: 0, cache: &cache
                    )
                    tally[restore(entry), default: 0] += 1
                }
            } catch {
                failure.withLock { if $0 == nil { $0 = error } }
            }
            tallies.withLock { total in total.merge(tally, uniquingKeysWith: +) }
        }
        if let error = failure.withLock({ $0 }) { throw error }
        return (header, tallies.withLock { $0 })
    }
}

/// The verified file's bytes, shared read-only by the decoding workers while `read` waits for them.
private struct UnsafeSendableBytes: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer
}
