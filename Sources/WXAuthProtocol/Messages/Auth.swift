import NIOCore

extension RequestMessage {
    /// AUTH: a caller id and its proof over the connection's HELLO nonce.
    public struct Auth: RequestPayload {
        public var callerID: String
        public var proof: [UInt8]

        public init(callerID: String, proof: [UInt8]) {
            self.callerID = callerID
            self.proof = proof
        }

        public static func decode(from body: inout ByteBuffer) throws(WireDecodingError) -> Self {
            Self(
                callerID: try body.readWireString("caller_id", allowed: FieldLimits.callerID),
                proof: try body.readWireBytes("proof", allowed: FieldLimits.authProof)
            )
        }

        public func encode(into buffer: inout ByteBuffer) {
            buffer.writeWireString(callerID)
            buffer.writeWireBytes(proof)
        }
    }
}
