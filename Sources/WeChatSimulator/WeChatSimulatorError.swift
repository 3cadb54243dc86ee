/// Why a simulator operation failed.
///
/// A struct with an extensible `Code` (new codes can be added without breaking callers that switch on `code`).
public struct WeChatSimulatorError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case unknownApp
            case codeAlreadyIssued
            case invalidCode
            case nonLoopbackHost
            case alreadyStarted
            case notRunning
            case invalidFixture
            case invalidArgument
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The appid is not configured.
        public static let unknownApp = Code(.unknownApp)
        /// A caller-chosen code is already issued.
        public static let codeAlreadyIssued = Code(.codeAlreadyIssued)
        /// A caller-chosen code is empty or too long.
        public static let invalidCode = Code(.invalidCode)
        /// `start(host:)` was given an address that is not loopback.
        public static let nonLoopbackHost = Code(.nonLoopbackHost)
        /// `start` was called twice (or after `shutdown`).
        public static let alreadyStarted = Code(.alreadyStarted)
        /// The operation needs a running simulator.
        public static let notRunning = Code(.notRunning)
        /// The fixture file or data is unreadable or inconsistent.
        public static let invalidFixture = Code(.invalidFixture)
        /// An argument is out of range.
        public static let invalidArgument = Code(.invalidArgument)

        public var description: String { self.base.rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// A human-readable explanation.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "WeChatSimulatorError.\(self.code): \(self.message)" }
}
