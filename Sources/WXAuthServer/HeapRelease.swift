#if canImport(Glibc)
import Glibc
#endif

/// Gives memory the allocator holds free back to the system. glibc keeps freed memory in its arenas (one per
/// thread that allocated, up to 8 per core), so a burst (a LOGIN flood, thousands of connections) leaves the
/// process's resident size at its peak long after the memory was freed. Run after each sweep, off the event loops.
enum HeapRelease {
    #if canImport(Glibc)
    private typealias MallocTrim = @convention(c) (Int) -> Int32
    /// glibc's `malloc_trim` (declared in malloc.h, which the Glibc module does not export), looked up once.
    nonisolated(unsafe) private static let mallocTrim: MallocTrim? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: MallocTrim.self)
    }()
    #endif

    static func returnFreeMemory() {
        #if canImport(Glibc)
        _ = mallocTrim?(0)
        #endif
    }
}
