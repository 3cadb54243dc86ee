import NIOCore
import WXAuthBenchCore
import WXAuthProtocol

/// One reply as a driver parsed it: which request it answers (nil: replies come in order) and its status.
struct ParsedReply {
    var requestID: UInt32?
    /// "OK" or the error's name; string literals, so the OK path allocates nothing.
    var status: String
    /// Frame body, kept only when the driver needs it (REFRESH and LOGIN answers carry a token).
    var frame: Frame?
}

/// The protocol-specific half of a load connection: writes requests, parses replies. One per connection, used
/// only on that connection's event loop.
protocol LoadDriver {
    /// Replies the server sends before any request (wxauth's HELLO).
    var greetingReplies: Int { get }
    /// Writes one request of kind `operation` (the driver may substitute, e.g. LOGIN without codes left becomes
    /// VALIDATE); returns what was actually sent.
    mutating func writeRequest(_ operation: BenchOperation, id: UInt32, into buffer: inout ByteBuffer) -> BenchOperation
    /// One reply from the front of `buffer`, or nil when it is not complete yet.
    mutating func readReply(from buffer: inout ByteBuffer) throws -> ParsedReply?
    /// Called once the reply is matched to its request.
    mutating func complete(_ reply: ParsedReply, operation: BenchOperation, id: UInt32)
    /// Things the report should say (codes ran out, ...).
    var notes: [String] { get }
}
