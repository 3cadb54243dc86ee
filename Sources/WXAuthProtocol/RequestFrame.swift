import NIOCore

extension Frame {
    /// Interprets this frame as a request: version, then opcode, then body.
    public func decodeRequest() throws(RequestDecodingError) -> Request {
        Request(try decodeRequestMessage())
    }

    /// Interprets this frame as a request in the server's form: VALIDATE's token stays a slice of the frame.
    /// The checks run in PROTOCOL.md's order: request id, version, opcode, then the body.
    public func decodeRequestMessage() throws(RequestDecodingError) -> RequestMessage {
        guard requestID != WireFormat.serverRequestID else { throw .reservedRequestID }
        guard version == WireFormat.version else { throw .unsupportedVersion(version) }
        var body = self.body
        return try RequestMessage.decode(opcode: Opcode(rawValue: kind), body: &body)
    }

    /// Interprets this frame as the response to a request with opcode `opcode`.
    public func decodeResponse(to opcode: Opcode) throws(WireDecodingError) -> Response {
        guard version == WireFormat.version else {
            throw WireDecodingError("response has unsupported protocol version \(version)")
        }
        var body = self.body
        return try Response.decode(status: Status(rawValue: kind), opcode: opcode, body: &body)
    }
}
