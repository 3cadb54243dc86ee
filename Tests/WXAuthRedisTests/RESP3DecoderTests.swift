import NIOCore
import Testing
@testable import WXAuthRedis

private func buffer(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

/// Byte vectors for every RESP3 type, each decoded whole and from every prefix of itself.
@Suite("RESP3 decoder")
struct RESP3DecoderTests {
    static let vectors: [(String, RESP3Value)] = [
        ("+OK\r\n", .simpleString(buffer("OK"))),
        ("+\r\n", .simpleString(buffer(""))),
        ("$5\r\nhello\r\n", .blobString(buffer("hello"))),
        ("$0\r\n\r\n", .blobString(buffer(""))),
        ("$4\r\na\r\nb\r\n", .blobString(buffer("a\r\nb"))),
        ("=15\r\ntxt:Some string\r\n", .verbatimString(format: "txt", text: buffer("Some string"))),
        ("-ERR unknown command\r\n", .simpleError(buffer("ERR unknown command"))),
        ("!21\r\nSYNTAX invalid syntax\r\n", .blobError(buffer("SYNTAX invalid syntax"))),
        (":0\r\n", .integer(0)),
        (":-42\r\n", .integer(-42)),
        (":+7\r\n", .integer(7)),
        (":9223372036854775807\r\n", .integer(.max)),
        (":-9223372036854775808\r\n", .integer(.min)),
        (",3.25\r\n", .double(3.25)),
        (",-1e3\r\n", .double(-1000)),
        (",10\r\n", .double(10)),
        (",inf\r\n", .double(.infinity)),
        (",-inf\r\n", .double(-.infinity)),
        ("(3492890328409238509324850943850943825024385\r\n", .bigNumber("3492890328409238509324850943850943825024385")),
        ("(-12\r\n", .bigNumber("-12")),
        ("#t\r\n", .boolean(true)),
        ("#f\r\n", .boolean(false)),
        ("_\r\n", .null),
        ("$-1\r\n", .null),
        ("*-1\r\n", .null),
        ("*0\r\n", .array([])),
        ("*3\r\n:1\r\n$1\r\nx\r\n_\r\n", .array([.integer(1), .blobString(buffer("x")), .null])),
        ("*2\r\n*1\r\n+a\r\n%0\r\n", .array([.array([.simpleString(buffer("a"))]), .map([])])),
        ("%2\r\n+first\r\n:1\r\n$6\r\nsecond\r\n#f\r\n", .map([
            .init(key: .simpleString(buffer("first")), value: .integer(1)),
            .init(key: .blobString(buffer("second")), value: .boolean(false)),
        ])),
        ("~2\r\n+a\r\n:2\r\n", .set([.simpleString(buffer("a")), .integer(2)])),
        ("|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*1\r\n:2039123\r\n", .attributed(
            attributes: [.init(key: .simpleString(buffer("key-popularity")),
                               value: .map([.init(key: .blobString(buffer("a")), value: .double(0.19))]))],
            value: .array([.integer(2_039_123)]))),
        (">3\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\nkey\r\n_\r\n", .push([
            .blobString(buffer("invalidate")), .array([.blobString(buffer("key"))]), .null,
        ])),
    ]

    @Test func everyTypeDecodesWholeAndConsumesExactlyItself() throws {
        let decoder = RESP3Decoder()
        for (wire, expected) in Self.vectors {
            var input = buffer(wire + "+next\r\n")
            #expect(try decoder.decode(from: &input) == expected, "\(wire.debugDescription)")
            #expect(String(buffer: input) == "+next\r\n", "\(wire.debugDescription)")
        }
    }

    @Test func everySplitPointAsksForMoreWithoutConsuming() throws {
        let decoder = RESP3Decoder()
        for (wire, expected) in Self.vectors {
            let bytes = Array(wire.utf8)
            for cut in 0..<bytes.count {
                var partial = ByteBuffer(bytes: bytes[..<cut])
                #expect(try decoder.decode(from: &partial) == nil, "\(wire.debugDescription) cut at \(cut)")
                #expect(partial.readableBytes == cut)
                // The rest arrives: the same buffer now decodes to the whole value.
                partial.writeBytes(bytes[cut...])
                #expect(try decoder.decode(from: &partial) == expected, "\(wire.debugDescription) cut at \(cut)")
                #expect(partial.readableBytes == 0)
            }
        }
    }

    @Test func nanDecodes() throws {
        var input = buffer(",nan\r\n")
        guard case .double(let value)? = try RESP3Decoder().decode(from: &input) else {
            Issue.record("not a double")
            return
        }
        #expect(value.isNaN)
    }

    @Test func malformedInputIsATypedError() {
        let cases: [(String, RESP3DecodingError.Code)] = [
            ("@x\r\n", .unknownType),
            (":12a\r\n", .invalidInteger),
            (":\r\n", .invalidInteger),
            (":99999999999999999999\r\n", .invalidInteger),
            (",1.2.x\r\n", .invalidDouble),
            (",0x1p3\r\n", .invalidDouble),
            ("(12x\r\n", .invalidBigNumber),
            ("#x\r\n", .invalidBoolean),
            ("_x\r\n", .invalidNull),
            ("$-2\r\n", .invalidLength),
            ("$abc\r\n", .invalidLength),
            ("$3\r\nabcd\r\n", .missingTerminator),
            ("=2\r\nab\r\n", .invalidVerbatimString),
            ("$?\r\n", .unsupportedStreamedType),
            ("*?\r\n", .unsupportedStreamedType),
            ("%-1\r\n", .invalidLength),
            ("+a\rb\r\n", .missingTerminator),
        ]
        for (wire, code) in cases {
            var input = buffer(wire)
            do {
                _ = try RESP3Decoder().decode(from: &input)
                Issue.record("\(wire.debugDescription) decoded")
            } catch {
                #expect(error.code == code, "\(wire.debugDescription): \(error.code)")
            }
        }
    }

    @Test func limitsAreEnforcedBeforeBuffering() {
        let limits = RESP3Decoder.Limits(maximumDepth: 3, maximumBlobLength: 10, maximumAggregateCount: 5, maximumLineLength: 16)
        let decoder = RESP3Decoder(limits: limits)
        let cases: [(String, RESP3DecodingError.Code)] = [
            ("*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", .depthLimitExceeded),
            ("%1\r\n+k\r\n%1\r\n+k\r\n~1\r\n>1\r\n:1\r\n", .depthLimitExceeded),
            ("$11\r\n", .blobTooLarge),  // refused from the header alone
            ("*6\r\n", .aggregateTooLarge),
            ("+" + String(repeating: "a", count: 17), .lineTooLong),  // no CRLF yet, already too long
            ("+" + String(repeating: "a", count: 17) + "\r\n", .lineTooLong),
        ]
        for (wire, code) in cases {
            var input = buffer(wire)
            do {
                _ = try decoder.decode(from: &input)
                Issue.record("\(wire.debugDescription) decoded")
            } catch {
                #expect(error.code == code, "\(wire.debugDescription): \(error.code)")
            }
        }
        var nested = buffer("*1\r\n*1\r\n*1\r\n:1\r\n")
        #expect(throws: Never.self) { _ = try decoder.decode(from: &nested) }
    }

    @Test func hugeAnnouncedCountDoesNotAllocateOrCrash() throws {
        var input = buffer("*16000000\r\n:1\r\n")
        #expect(try RESP3Decoder().decode(from: &input) == nil)
    }

    @Test func manyRepliesInOneBufferDecodeInOrder() throws {
        var input = ByteBuffer()
        for index in 0..<1000 { input.writeString(":\(index)\r\n") }
        let decoder = RESP3Decoder()
        for index in 0..<1000 {
            #expect(try decoder.decode(from: &input) == .integer(Int64(index)))
        }
        #expect(try decoder.decode(from: &input) == nil)
    }

    @Test func accessorsReadMapsAndFlatArrays() {
        let map = RESP3Value.map([.init(key: .blobString(buffer("role")), value: .simpleString(buffer("master")))])
        #expect(map["role"]?.string == "master")
        let flat = RESP3Value.array([.blobString(buffer("port")), .integer(7000)])
        #expect(flat["port"]?.integer == 7000)
        #expect(RESP3Value.blobString(buffer("12")).integer == 12)
        #expect(RESP3Value.simpleError(buffer("ERR x")).isError)
    }
}

@Suite("Command encoding, hash slots, scripts")
struct CommandEncodingTests {
    @Test func commandsAreArraysOfBlobStrings() {
        var output = ByteBuffer()
        RedisCommandEncoder.write(RedisCommand(["SET", "key", "0123456789ab"]), into: &output)
        #expect(String(buffer: output) == "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$12\r\n0123456789ab\r\n")
        output.clear()
        RedisCommandEncoder.write(RedisCommand(arguments: [ByteBuffer(bytes: [0, 13, 10])]), into: &output)
        #expect(Array(output.readableBytesView) == Array("*1\r\n$3\r\n".utf8) + [0, 13, 10] + Array("\r\n".utf8))
    }

    @Test func encodedCommandsDecodeBackToTheirArguments() throws {
        let command = RedisCommand(["HSET", "h", "", String(repeating: "x", count: 300)])
        var output = ByteBuffer()
        RedisCommandEncoder.write(command, into: &output)
        let decoded = try RESP3Decoder().decode(from: &output)
        #expect(decoded == .array(command.arguments.map { .blobString($0) }))
    }

    @Test func crc16MatchesTheClusterSpecVector() {
        #expect(HashSlot.crc16(Array("123456789".utf8)) == 0x31C3)
        #expect(HashSlot.of("123456789") == 0x31C3 % 16384)
    }

    @Test func slotsMatchRedisKnownValues() {
        // From CLUSTER KEYSLOT on a real server.
        #expect(HashSlot.of("foo") == 12182)
        #expect(HashSlot.of("bar") == 5061)
        #expect(HashSlot.of("") == 0)
    }

    @Test func hashTagsHashOnlyTheTag() {
        #expect(HashSlot.of("{user1000}.following") == HashSlot.of("user1000"))
        #expect(HashSlot.of("{user1000}.followers") == HashSlot.of("{user1000}.following"))
        #expect(HashSlot.of("foo{}{bar}") == HashSlot.of("foo{}{bar}".utf8))  // empty first tag: whole key
        #expect(HashSlot.of("foo{}{bar}") != HashSlot.of("bar"))
        #expect(HashSlot.of("foo{{bar}}zap") == HashSlot.of("{bar"))
        #expect(HashSlot.of("foo{bar}{zap}") == HashSlot.of("bar"))
        #expect(HashSlot.of("no{close") == HashSlot.crc16(Array("no{close".utf8)) % 16384)
    }

    @Test func multiKeyCommandsAcrossSlotsAreRefusedBeforeSending() throws {
        #expect(try RedisCommand.mget(["{u1}a", "{u1}b"]).slot() == HashSlot.of("u1"))
        #expect(try RedisCommand.ping.slot() == nil)
        #expect(throws: RedisClientError(.crossSlot, "MGET: keys hash to slots \(HashSlot.of("a")) and \(HashSlot.of("b"))")) {
            try RedisCommand.mget(["a", "b"]).slot()
        }
        let mset = RedisCommand.mset([("{t}x", "1"), ("{t}y", "2")])
        #expect(mset.keys.map { String(buffer: $0) } == ["{t}x", "{t}y"])
    }

    @Test func scriptsAreNamedByTheirSHA1() {
        #expect(SHA1.hex([]) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(SHA1.hex(Array("abc".utf8)) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(SHA1.hex(Array(String(repeating: "a", count: 1000).utf8)) == "291e9a6c66994949b57ba5e650361e98fc36b1ba")
        let script = RedisScript("return 1")
        #expect(script.sha1 == "e0e1f9fabfc9d4800c877a703b823ac0578ff8db")
        let command = script.command(keys: ["{s}k"], arguments: ["a"])
        #expect(command.arguments.map { String(buffer: $0) } == ["EVALSHA", script.sha1, "1", "{s}k", "a"])
        #expect(command.keyIndices == [3])
    }

    @Test func serverErrorsAreTypedByPrefix() {
        let moved = RedisServerError(message: "MOVED 3999 127.0.0.1:6381")
        #expect(moved.code == .moved)
        #expect(moved.redirection == .init(slot: 3999, address: RedisAddress(host: "127.0.0.1", port: 6381)))
        let ask = RedisServerError(message: "ASK 12 [::1]:7000")
        #expect(ask.code == .ask && ask.redirection?.address == RedisAddress(host: "::1", port: 7000))
        #expect(RedisServerError(message: "TRYAGAIN Multiple keys request during rehashing").code == .tryAgain)
        #expect(RedisServerError(message: "CLUSTERDOWN The cluster is down").isTransient)
        #expect(RedisServerError(message: "WRONGPASS invalid username-password pair").code == .wrongPass)
        #expect(RedisServerError(message: "NOAUTH Authentication required.").code == .noAuth)
        #expect(RedisServerError(message: "LOADING Redis is loading").code == .loading)
        #expect(RedisServerError(message: "READONLY You can't write against a read only replica.").code == .readOnly)
        #expect(RedisServerError(message: "NOSCRIPT No matching script").code == .noScript)
        #expect(RedisServerError(message: "WEIRD thing").code == RedisServerError.Code(prefix: "WEIRD"))
        #expect(RedisServerError(message: "MOVED nonsense").redirection == nil)
    }
}
