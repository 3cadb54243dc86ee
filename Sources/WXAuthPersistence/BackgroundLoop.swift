import Foundation

/// A thread that runs `body` every interval until stopped. Blocking file I/O runs here, never on event loops or
/// the cooperative pool.
final class BackgroundLoop: Sendable {
    private let stopSignal = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    init(name: String, intervalMilliseconds: Int64, runFirstImmediately: Bool, body: @escaping @Sendable () -> Void) {
        let interval = max(intervalMilliseconds, 1)
        let thread = Thread { [stopSignal, finished] in
            if runFirstImmediately { body() }
            while stopSignal.wait(timeout: .now() + .milliseconds(Int(interval))) == .timedOut {
                body()
            }
            finished.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Returns once the thread finished its current run.
    func stop() {
        stopSignal.signal()
        finished.wait()
    }
}
