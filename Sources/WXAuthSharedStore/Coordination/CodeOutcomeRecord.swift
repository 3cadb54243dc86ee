import WXAuthCrypto

/// What the Redis key of a code holds, decoded without I/O:
/// - `P` + claim id: a node is producing the outcome (the key expires if that node dies);
/// - `R` + sealed outcome (`CoordinationSealer`): the definite outcome.
enum CodeOutcomeRecord: Equatable {
    /// No value: the `SET ... NX GET` that read it claimed the key.
    case claimedByUs
    /// Another node's claim.
    case claimedByOther
    /// A sealed outcome, not yet opened.
    case sealed([UInt8])
    /// Neither a claim nor a sealed outcome: not written by wxauthd.
    case unreadable

    static let claimMarker = UInt8(ascii: "P")
    static let outcomeMarker = UInt8(ascii: "R")

    /// Decodes the stored bytes (nil: the key was absent).
    init(stored: [UInt8]?) {
        guard let stored else {
            self = .claimedByUs
            return
        }
        switch stored.first {
        case Self.claimMarker?: self = stored.count > 1 ? .claimedByOther : .unreadable
        case Self.outcomeMarker?: self = .sealed(Array(stored.dropFirst()))
        default: self = .unreadable
        }
    }

    /// The value that claims a key: the marker and a random id (16 bytes as hex) unique to this claim.
    static func claimValue(id: [UInt8]) -> String {
        "P" + Hex.encode(id)
    }

    /// The value stored for a definite outcome.
    static func outcomeValue(sealed: [UInt8]) -> [UInt8] {
        [outcomeMarker] + sealed
    }
}
