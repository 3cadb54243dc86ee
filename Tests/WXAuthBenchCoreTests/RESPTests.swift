import NIOCore
import Testing
@testable import WXAuthBenchCore

@Suite("RESP2 encoding and decoding")
struct RESPTests {
    @Test func commandsAreArraysOfBulkStrings() {
        var buffer = ByteBuffer()
        RESP.writeCommand(["SET", "key", "0123456789ab"], into: &buffer)
        #expect(String(buffer: buffer) == "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$12\r\n0123456789ab\r\n")
    }

    @Test func everyReplyTypeDecodes() throws {
        var buffer = ByteBuffer(string: "+OK\r\n-ERR wrong type\r\n:-42\r\n$5\r\nhello\r\n$-1\r\n*2\r\n$0\r\n\r\n")
        #expect(try RESP.readReply(from: &buffer) == .simple("OK"))
        #expect(try RESP.readReply(from: &buffer) == .error("ERR wrong type"))
        #expect(try RESP.readReply(from: &buffer) == .integer(-42))
        #expect(try RESP.readReply(from: &buffer) == .bulk(length: 5, payload: nil))
        #expect(try RESP.readReply(from: &buffer) == .bulk(length: nil, payload: nil))
        #expect(try RESP.readReply(from: &buffer) == .arrayHeader(count: 2))
        #expect(try RESP.readReply(from: &buffer) == .bulk(length: 0, payload: nil))
        #expect(buffer.readableBytes == 0)
    }

    @Test func partialRepliesConsumeNothing() throws {
        let whole = "$11\r\nhello world\r\n"
        for cut in 0..<whole.utf8.count {
            var buffer = ByteBuffer(bytes: Array(whole.utf8.prefix(cut)))
            #expect(try RESP.readReply(from: &buffer) == nil)
            #expect(buffer.readableBytes == cut)
        }
        var buffer = ByteBuffer(string: whole)
        guard case .bulk(11, let payload?) = try RESP.readReply(from: &buffer, keepPayload: true) else {
            Issue.record("expected a bulk string")
            return
        }
        #expect(String(buffer: payload) == "hello world")
    }

    @Test func malformedRepliesThrow() {
        var unknown = ByteBuffer(string: "?what\r\n")
        #expect(throws: RESP.DecodingError.self) { try RESP.readReply(from: &unknown) }
        var badLength = ByteBuffer(string: "$1x\r\n")
        #expect(throws: RESP.DecodingError.self) { try RESP.readReply(from: &badLength) }
    }

    @Test func infoFieldsAreFoundOnCRLFLines() {
        let info = "# Memory\r\nused_memory:23910504\r\nused_memory_human:22.80M\r\n"
        #expect(RESP.infoField("used_memory", in: info) == "23910504")
        #expect(RESP.infoField("used_memory_rss", in: info) == nil)
    }
}
