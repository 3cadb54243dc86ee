import NIOCore
import WXAuthProtocol

/// One connection's inbound side without I/O: the bytes read and not yet taken as frames (cut by `FrameDecoder`, the
/// one frame parser), and the frame deadline (slowloris) kept beside them. The deadline belongs to the partial frame
/// waiting for the client's bytes: it starts when such a frame is first seen while we read, is never moved by
/// further partial reads of that frame, and stops counting while we are the ones not reading (in-flight cap, unread
/// replies, spent turn), starting afresh when we read again. One timer serves it: armed when a partial frame starts
/// counting and none is armed; on firing it closes, re-arms for the partial frame now waiting, or lapses.
struct InboundFrames {
    enum DeadlineAction: Equatable {
        case none
        /// Arm the connection's one timer for this instant.
        case arm(at: NIODeadline)
    }

    enum DeadlineExpiry: Equatable {
        /// The waiting partial frame is late: close the connection.
        case close
        /// A younger partial frame waits: arm the timer again for its deadline.
        case rearm(at: NIODeadline)
        /// Nothing waits (or we are not reading): the timer lapses.
        case lapse
    }

    let maxFrameSize: Int
    let frameDeadline: TimeAmount
    /// Bytes read and not yet taken: at most a partial frame while we read, one read burst otherwise.
    private(set) var bytes = ByteBuffer()
    /// When the partial frame now waiting started counting; nil when none waits or we are not reading.
    private(set) var partialFrameSince: NIODeadline?
    private(set) var timerArmed = false
    /// A frame was taken since the deadline was last updated (the partial frame left, if any, is a new one).
    private var frameTaken = false

    init(maxFrameSize: Int, frameDeadline: TimeAmount) {
        self.maxFrameSize = maxFrameSize
        self.frameDeadline = frameDeadline
    }

    var bufferedBytes: Int { bytes.readableBytes }

    mutating func append(_ read: inout ByteBuffer) {
        if bytes.readableBytes == 0 {
            bytes = read
        } else {
            bytes.writeBuffer(&read)
        }
    }

    /// The next whole frame, nil when the bytes end inside one.
    mutating func next() throws(FrameDecodingError) -> Frame? {
        guard let frame = try FrameDecoder.decodeFrame(from: &bytes, maxFrameSize: maxFrameSize) else { return nil }
        frameTaken = true
        return frame
    }

    /// After taking frames: frees or compacts the buffer and moves the deadline. `reading`: whether we read the
    /// connection now. `now` is asked only when a new partial frame starts counting.
    mutating func framesTaken(reading: Bool, now: () -> NIODeadline) -> DeadlineAction {
        compact()
        let newFrame = frameTaken
        frameTaken = false
        guard bytes.readableBytes > 0 && reading else {
            partialFrameSince = nil
            return .none
        }
        if partialFrameSince == nil || newFrame { partialFrameSince = now() }
        guard !timerArmed, let since = partialFrameSince else { return .none }
        timerArmed = true
        return .arm(at: since + frameDeadline)
    }

    /// The connection's timer fired at `now`.
    mutating func deadlineTimerFired(now: NIODeadline) -> DeadlineExpiry {
        timerArmed = false
        guard let since = partialFrameSince else { return .lapse }
        let deadline = since + frameDeadline
        guard now < deadline else {
            partialFrameSince = nil
            return .close
        }
        timerArmed = true
        return .rearm(at: deadline)
    }

    /// Drops everything (the connection closed); the timer, if armed, is the caller's to cancel.
    mutating func release() {
        bytes = ByteBuffer()
        partialFrameSince = nil
        timerArmed = false
        frameTaken = false
    }

    private mutating func compact() {
        if bytes.readableBytes == 0 {
            if bytes.capacity > 0 { bytes = ByteBuffer() }
        } else if bytes.readerIndex >= 16_384 {
            bytes.discardReadBytes()
        }
    }
}
