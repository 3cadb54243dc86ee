import NIOCore
import Testing
import WXAuthProtocol
@testable import WXAuthServer

/// The frame deadline beside the decoder's bytes: one timer, armed once per frame, never per partial read.
@Suite("InboundFrames (frame deadline)")
struct InboundFramesTests {
    static let deadline = TimeAmount.seconds(10)
    static let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    static func ping(_ id: UInt32) -> [UInt8] {
        var buffer = ByteBuffer()
        FrameEncoder.writeRequest(.ping, requestID: id, into: &buffer)
        return Array(buffer.readableBytesView)
    }

    func feed(_ inbound: inout InboundFrames, _ bytes: [UInt8]) throws -> Int {
        var read = ByteBuffer(bytes: bytes)
        inbound.append(&read)
        var frames = 0
        while try inbound.next() != nil { frames += 1 }
        return frames
    }

    @Test func partialReadsOfOneFrameArmTheTimerOnce() throws {
        var inbound = InboundFrames(maxFrameSize: 1024, frameDeadline: Self.deadline)
        let ping = Self.ping(1)
        var clockReads = 0
        let now = { () -> NIODeadline in clockReads += 1; return Self.start }
        #expect(try feed(&inbound, Array(ping[0..<3])) == 0)
        #expect(inbound.framesTaken(reading: true, now: now) == .arm(at: Self.start + Self.deadline))
        for byte in ping[3..<(ping.count - 1)] {
            #expect(try feed(&inbound, [byte]) == 0)
            #expect(inbound.framesTaken(reading: true, now: now) == .none)
        }
        #expect(clockReads == 1)
        #expect(try feed(&inbound, [ping.last!]) == 1)
        #expect(inbound.framesTaken(reading: true, now: now) == .none)
        #expect(inbound.bufferedBytes == 0)
        // The armed timer finds nothing waiting and lapses.
        #expect(inbound.deadlineTimerFired(now: Self.start + Self.deadline) == .lapse)
    }

    @Test func pipelinedFramesKeepOneTimerThatRearmsForTheYoungestPartialFrame() throws {
        var inbound = InboundFrames(maxFrameSize: 1024, frameDeadline: Self.deadline)
        let two = Self.ping(1) + Self.ping(2)
        var time = Self.start
        #expect(try feed(&inbound, Array(two[0..<15])) == 1)  // frame 1 and part of frame 2
        #expect(inbound.framesTaken(reading: true, now: { time }) == .arm(at: Self.start + Self.deadline))
        time = Self.start + .seconds(4)
        #expect(try feed(&inbound, Array(two[15...]) + Array(Self.ping(3)[0..<2])) == 1)  // frame 2, part of 3
        #expect(inbound.framesTaken(reading: true, now: { time }) == .none)  // no reschedule
        // At the first deadline frame 3 has waited 6 s: the timer re-arms for its own deadline.
        #expect(inbound.deadlineTimerFired(now: Self.start + Self.deadline) == .rearm(at: time + Self.deadline))
        #expect(inbound.deadlineTimerFired(now: time + Self.deadline) == .close)
    }

    @Test func theClockStopsWhileWeAreNotReadingAndStartsAfreshAfter() throws {
        var inbound = InboundFrames(maxFrameSize: 1024, frameDeadline: Self.deadline)
        #expect(try feed(&inbound, Array(Self.ping(1)[0..<5])) == 0)
        #expect(inbound.framesTaken(reading: true, now: { Self.start }) == .arm(at: Self.start + Self.deadline))
        #expect(inbound.framesTaken(reading: false, now: { Self.start + .seconds(1) }) == .none)
        #expect(inbound.deadlineTimerFired(now: Self.start + Self.deadline) == .lapse)
        let resumed = Self.start + .seconds(30)
        #expect(inbound.framesTaken(reading: true, now: { resumed }) == .arm(at: resumed + Self.deadline))
    }
}
