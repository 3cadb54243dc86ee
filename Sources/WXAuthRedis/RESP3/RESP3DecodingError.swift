/// Input that is not RESP3, or that goes past a `RESP3Decoder.Limits` bound. The connection that saw it cannot
/// continue: its stream position is lost.
public struct RESP3DecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case unknownType, invalidLength, invalidInteger, invalidDouble, invalidBigNumber, invalidBoolean
            case invalidNull, invalidVerbatimString, missingTerminator, unsupportedStreamedType
            case depthLimitExceeded, blobTooLarge, aggregateTooLarge, lineTooLong
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The first byte is not a RESP3 type marker.
        public static let unknownType = Code(.unknownType)
        /// A length or count is not a decimal number, or is negative where only -1 (RESP2 null) is allowed.
        public static let invalidLength = Code(.invalidLength)
        public static let invalidInteger = Code(.invalidInteger)
        public static let invalidDouble = Code(.invalidDouble)
        public static let invalidBigNumber = Code(.invalidBigNumber)
        public static let invalidBoolean = Code(.invalidBoolean)
        public static let invalidNull = Code(.invalidNull)
        /// A verbatim string shorter than its `fmt:` prefix.
        public static let invalidVerbatimString = Code(.invalidVerbatimString)
        /// A blob's payload is not followed by CRLF.
        public static let missingTerminator = Code(.missingTerminator)
        /// `$?` / `*?` streamed strings and aggregates: Redis never sends them.
        public static let unsupportedStreamedType = Code(.unsupportedStreamedType)
        /// Aggregates nested deeper than `Limits.maximumDepth`.
        public static let depthLimitExceeded = Code(.depthLimitExceeded)
        /// A blob longer than `Limits.maximumBlobLength`.
        public static let blobTooLarge = Code(.blobTooLarge)
        /// An aggregate with more elements than `Limits.maximumAggregateCount`.
        public static let aggregateTooLarge = Code(.aggregateTooLarge)
        /// No CRLF within `Limits.maximumLineLength` bytes of a line-terminated value.
        public static let lineTooLong = Code(.lineTooLong)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// Offset from the start of the value being decoded.
    public var offset: Int

    public init(_ code: Code, offset: Int) {
        self.code = code
        self.offset = offset
    }

    public var description: String { "RESP3 decoding error \(code) at offset \(offset)" }
}
