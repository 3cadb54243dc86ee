import NIOConcurrencyHelpers
import Synchronization

/// The simulator's state behind one lock, shared by the HTTP handlers and the in-process API.
final class SimulatorStore: Sendable {
    private let state: NIOLockedValueBox<SimulatorState>

    init(configuration: WeChatSimulatorConfiguration) {
        self.state = NIOLockedValueBox(SimulatorState(configuration: configuration))
    }

    /// Runs `body` with exclusive access to the state.
    func withState<Result: Sendable, Failure: Error>(
        _ body: (inout SimulatorState) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try self.state.withLockedValue { (state: inout SimulatorState) in
            Swift.Result { () throws(Failure) -> Result in try body(&state) }
        }.get()
    }
}
