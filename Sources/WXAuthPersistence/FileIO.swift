#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The few POSIX calls persistence needs, each throwing an `IOFailure` that names the call, the path and errno.
enum FileIO {
    /// Creates (or truncates) `path` for writing, mode 0600.
    static func create(_ path: String, truncate: Bool = true) throws(IOFailure) -> Int32 {
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : O_EXCL)
        let fd = open(path, flags, 0o600)
        guard fd >= 0 else { throw IOFailure("open", path) }
        // An existing file keeps its mode through O_TRUNC: make sure it is 0600 anyway.
        guard fchmod(fd, 0o600) == 0 else {
            let failure = IOFailure("fchmod", path)
            close(fd)
            throw failure
        }
        return fd
    }

    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(IOFailure) {
        var offset = 0
        while offset < bytes.count {
            let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw IOFailure("write", path)
            }
            offset += written
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String, faults: DiskFaultInjection? = nil) throws(IOFailure) {
        let outcome = bytes.withUnsafeBytes { raw in
            Result { () throws(IOFailure) in
                guard let faults else { return try writeAll(fd, raw, path: path) }
                let (allowed, failure) = faults.admitWrite(count: raw.count)
                try writeAll(fd, UnsafeRawBufferPointer(rebasing: raw[0..<allowed]), path: path)
                if let failure { throw IOFailure("write", path, errno: failure) }
            }
        }
        try outcome.get()
    }

    /// Sets the file's size to `length` and its offset to the end: drops a partly written record.
    static func truncate(_ fd: Int32, to length: Int, path: String) throws(IOFailure) {
        guard ftruncate(fd, off_t(length)) == 0 else { throw IOFailure("ftruncate", path) }
        guard lseek(fd, off_t(length), SEEK_SET) >= 0 else { throw IOFailure("lseek", path) }
    }

    static func sync(_ fd: Int32, path: String, faults: DiskFaultInjection? = nil) throws(IOFailure) {
        if let code = faults?.admitSync() { throw IOFailure("fsync", path, errno: code) }
        guard fsync(fd) == 0 else { throw IOFailure("fsync", path) }
    }

    static func syncData(_ fd: Int32, path: String, faults: DiskFaultInjection? = nil) throws(IOFailure) {
        if let code = faults?.admitSync() { throw IOFailure("fdatasync", path, errno: code) }
        #if canImport(Glibc)
        guard fdatasync(fd) == 0 else { throw IOFailure("fdatasync", path) }
        #else
        guard fsync(fd) == 0 else { throw IOFailure("fsync", path) }
        #endif
    }

    /// fsync of a directory, so a rename or a new file in it survives a power loss.
    static func syncDirectory(_ path: String) throws(IOFailure) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw IOFailure("open", path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw IOFailure("fsync", path) }
    }

    static func move(_ from: String, _ to: String) throws(IOFailure) {
        guard rename(from, to) == 0 else { throw IOFailure("rename", from) }
    }

    static func close(_ fd: Int32) {
        _ = systemClose(fd)
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    static func remove(_ path: String) throws(IOFailure) {
        guard unlink(path) == 0 || errno == ENOENT else { throw IOFailure("unlink", path) }
    }

    /// The whole file, or nil when it does not exist.
    static func readFile(_ path: String) throws(IOFailure) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw IOFailure("open", path)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw IOFailure("fstat", path) }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var offset = 0
        var failure: IOFailure?
        bytes.withUnsafeMutableBytes { buffer in
            while offset < buffer.count {
                let got = read(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if got < 0 {
                    if errno == EINTR { continue }
                    failure = IOFailure("read", path)
                    return
                }
                if got == 0 { break }
                offset += got
            }
        }
        if let failure { throw failure }
        if offset < bytes.count { bytes.removeLast(bytes.count - offset) }
        return bytes
    }

    /// Creates `path` (mode 0700) when missing; fails when it exists and is not a directory.
    static func makeDirectory(_ path: String) throws(IOFailure) {
        var info = stat()
        if stat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFDIR else { throw IOFailure("not a directory", path, errno: ENOTDIR) }
            return
        }
        guard mkdir(path, 0o700) == 0 || errno == EEXIST else { throw IOFailure("mkdir", path) }
    }

    static func list(_ directory: String) throws(IOFailure) -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw IOFailure("readdir", directory, errno: EIO)
        }
    }

    /// An exclusive advisory lock on `path` held as long as the returned descriptor is open; nil when another
    /// process holds it.
    static func lock(_ path: String) throws(IOFailure) -> Int32? {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw IOFailure("open", path) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            close(fd)
            if code == EWOULDBLOCK { return nil }
            throw IOFailure("flock", path, errno: code)
        }
        return fd
    }
}

private func systemClose(_ fd: Int32) -> Int32 { close(fd) }

/// A failed system call.
public struct IOFailure: Error, CustomStringConvertible, Sendable {
    public var call: String
    public var path: String
    public var code: Int32

    init(_ call: String, _ path: String, errno code: Int32 = errno) {
        self.call = call
        self.path = path
        self.code = code
    }

    public var description: String { "\(call) \(path): \(String(cString: strerror(code)))" }
}
