import NIOCore
import Testing
import WXAuthProtocol

private let token44 = String(repeating: "A", count: 43) + "_"
private let session = SessionView(
    appID: "wx1234567890abcdef", openid: "oUnicode用户", unionid: "o6_bmasdasdsad6_2sgVt7hMZOPfL",
    createdAt: 1_764_160_000_000, expiresAt: 1_764_161_800_000, absoluteExpiresAt: 1_764_203_200_000
)
private let negativeTimes = SessionView(
    appID: "a", openid: "o", unionid: "", createdAt: -1, expiresAt: .min, absoluteExpiresAt: .max
)

/// Every `Request` case, including field-limit boundaries.
let allRequests: [Request] = [
    .ping,
    .auth(callerID: "orders-api", proof: Array(0..<32)),
    .auth(callerID: String(repeating: "c", count: 64), proof: [UInt8](repeating: 0xFF, count: 32)),
    .login(appID: "wx1", code: "c+ode/é"),
    .login(appID: String(repeating: "a", count: 64), code: String(repeating: "k", count: 256)),
    .validate(token: token44),
    .validate(token: String(repeating: "t", count: 128)),
    .refresh(token: token44),
    .revoke(token: "x"),
    .revokeUser(appID: "wx1234567890abcdef", openid: "oQz5o5Mxd3oyEXAMPLEopenid01"),
    .revokeUser(appID: "a", openid: String(repeating: "o", count: 128)),
    .decrypt(token: token44, encryptedData: "CiyLU1Aw+/==", iv: "r7BXXKkLb8qrSNn05n0qiA=="),
    .decrypt(token: token44, encryptedData: String(repeating: "e", count: 60_000), iv: String(repeating: "i", count: 64)),
    .verifySignature(token: token44, rawData: "{\"nickName\":\"用户\"}", signature: String(repeating: "a", count: 40)),
    .verifySignature(token: token44, rawData: "", signature: String(repeating: "s", count: 128)),
    .phoneNumber(token: token44, code: String(repeating: "p", count: 256)),
    .checkSessionKey(token: token44),
    .resetSessionKey(token: "x"),
]

/// An error of every non-OK status, each with every field its status carries set to something non-zero.
let allErrors: [ServerError] = Status.all.filter { $0 != .ok }.map { status in
    switch status {
    case .unsupportedVersion: ServerError(status, "protocol version 9 is not supported", supportedVersion: 1)
    case .frameTooLarge: ServerError(status, "too large", maxFrame: 65_536)
    case .wechatRejected: ServerError(status, "code been used", errcode: 40163)
    case .wechatUnavailable: ServerError(status, "system error", errcode: -1)
    case .rateLimited: ServerError(status, "quota", errcode: 45011, retryAfterMilliseconds: 60_000)
    case .decryptFailed: ServerError(status, "log in again", reason: .badPaddingOrKey)
    default: ServerError(status, "\(status.name) message ✓")
    }
}

/// Every `Response` case, paired with the opcode of the request it answers.
let allResponses: [(Opcode, Response)] = [
    (.hello, .hello(Hello(authenticationRequired: true, nonce: Array(0..<32), maxFrame: 1 << 20))),
    (.hello, .hello(Hello(authenticationRequired: false, nonce: [UInt8](repeating: 0, count: 32), maxFrame: 6))),
    (.ping, .pong(serverTime: 1_764_160_000_123)),
    (.ping, .pong(serverTime: -5)),
    (.auth, .authenticated(permissions: .all)),
    (.auth, .authenticated(permissions: [.ping, .validate])),
    (.login, .loggedIn(token: token44, session: session)),
    (.validate, .validated(session)),
    (.validate, .validated(negativeTimes)),
    (.refresh, .refreshed(token: token44, session: session)),
    (.revoke, .revoked),
    (.revokeUser, .userRevoked(count: 0)),
    (.revokeUser, .userRevoked(count: .max)),
    (.decrypt, .decrypted(json: "{\"watermark\":{\"appid\":\"wx1\",\"timestamp\":1}}")),
    (.verifySignature, .signatureVerified),
    (.phoneNumber, .phoneNumber(PhoneNumber(phoneNumber: "+1 4155550100", purePhoneNumber: "4155550100", countryCode: "1"))),
    (.checkSessionKey, .sessionKeyChecked(current: true)),
    (.checkSessionKey, .sessionKeyChecked(current: false)),
    (.resetSessionKey, .sessionKeyReset),
    (.decrypt, .error(ServerError(.decryptFailed, "unknown reason", reason: DecryptFailureReason(rawValue: 200)))),
] + allErrors.map { (Opcode.login, Response.error($0)) }

@Suite("Request and Response round trips")
struct CodecRoundTripTests {
    @Test("every Request case round-trips through FrameEncoder, FrameDecoder and decodeRequest")
    func requestRoundTrip() throws {
        // Every opcode is represented.
        #expect(Set(allRequests.map(\.opcode)) == Set(Opcode.requestOpcodes))
        for (index, request) in allRequests.enumerated() {
            let requestID = UInt32(index + 1) &* 0x0101_0101
            var bytes = encode(request, requestID: requestID)
            let frame = try #require(try FrameDecoder.decodeFrame(from: &bytes, maxFrameSize: 65_536))
            #expect(bytes.readableBytes == 0)
            #expect(frame.requestID == requestID)
            #expect(frame.kind == request.opcode.rawValue)
            #expect(try frame.decodeRequest() == request)
        }
    }

    @Test("every Response case and every status with its fields round-trips")
    func responseRoundTrip() throws {
        #expect(Set(allResponses.map(\.1.status)) == Set(Status.all))
        for (index, (opcode, response)) in allResponses.enumerated() {
            let requestID = UInt32(index)
            var bytes = encode(response, requestID: requestID)
            let frame = try #require(try FrameDecoder.decodeFrame(from: &bytes, maxFrameSize: 65_536))
            #expect(bytes.readableBytes == 0)
            #expect(frame.requestID == requestID)
            #expect(frame.kind == response.status.rawValue)
            #expect(try frame.decodeResponse(to: opcode) == response, "\(opcode) \(response.status)")
        }
    }

    @Test("error bodies: the message first, then the status's fields in the order PROTOCOL.md gives")
    func errorBodyLayout() {
        var body = ByteBuffer()
        ServerError(.rateLimited, "m", errcode: 45011, retryAfterMilliseconds: 60_000).encodeBody(into: &body)
        #expect(hexString(body) == "0001" + "6d" + "0000ea60" + "0000afd3")
        body.clear()
        ServerError(.frameTooLarge, "", maxFrame: 7).encodeBody(into: &body)
        #expect(hexString(body) == "0000" + "00000007")
        body.clear()
        ServerError(.unsupportedVersion, "v", supportedVersion: 1).encodeBody(into: &body)
        #expect(hexString(body) == "0001" + "76" + "01")
        body.clear()
        ServerError(.wechatUnavailable, "", errcode: -1).encodeBody(into: &body)
        #expect(hexString(body) == "0000" + "ffffffff")
    }

    @Test("an unknown status's body is its message and fields this version does not know, which are skipped")
    func unknownStatusWithFields() throws {
        var bytes = ByteBuffer()
        FrameEncoder.writeFrame(kind: 0x3E, requestID: 9, into: &bytes) {
            $0.writeWireString("later")
            $0.writeInteger(UInt32(1234))
        }
        let frame = try #require(try FrameDecoder.decodeFrame(from: &bytes, maxFrameSize: 65_536))
        guard case .error(let error) = try frame.decodeResponse(to: .validate) else {
            Issue.record("expected an error")
            return
        }
        #expect(error.status.rawValue == 0x3E)
        #expect(error.message == "later")
    }

    @Test("a known status with bytes after its fields is refused: known bodies are consumed exactly")
    func knownStatusTrailingBytes() throws {
        var bytes = ByteBuffer()
        FrameEncoder.writeFrame(kind: Status.invalidToken.rawValue, requestID: 9, into: &bytes) {
            $0.writeWireString("x")
            $0.writeInteger(UInt8(0))
        }
        let frame = try #require(try FrameDecoder.decodeFrame(from: &bytes, maxFrameSize: 65_536))
        #expect(throws: WireDecodingError.self) { try frame.decodeResponse(to: .validate) }
    }

    @Test("a request with id 0 (the server's own) is refused before its version or opcode is looked at")
    func requestIDZero() throws {
        var bytes = ByteBuffer()
        FrameEncoder.writeFrame(kind: 0x7F, requestID: 0, into: &bytes, version: 9) { _ in }
        let frame = try #require(try FrameDecoder.decodeFrame(from: &bytes, maxFrameSize: 65_536))
        #expect(throws: RequestDecodingError.reservedRequestID) { try frame.decodeRequest() }
        #expect(RequestDecodingError.reservedRequestID.response.status == .malformedRequest)
    }

    @Test("an unknown status decodes as an error carrying its message, and is not retryable")
    func unknownStatus() throws {
        let unknown = Status(rawValue: 0x7E)
        #expect(!Status.all.contains(unknown))
        var bytes = ByteBuffer()
        FrameEncoder.writeFrame(kind: unknown.rawValue, requestID: 5, into: &bytes) { $0.writeWireString("future") }
        let frame = try #require(try FrameDecoder.decodeFrame(from: &bytes, maxFrameSize: 65_536))
        let response = try frame.decodeResponse(to: .validate)
        guard case .error(let error) = response else {
            Issue.record("expected an error, got \(response)")
            return
        }
        #expect(error.status == unknown)
        #expect(error.message == "future")
        #expect(!error.isRetryable)
        #expect(!response.status.isRetryable)
    }

    @Test("Status.isRetryable matches PROTOCOL.md's table; every unknown status is not retryable")
    func retryTable() {
        // Straight from the "retry?" column of PROTOCOL.md.
        let table: [String: Bool] = [
            "MALFORMED_REQUEST": false, "UNSUPPORTED_VERSION": false, "UNKNOWN_OPCODE": false,
            "FRAME_TOO_LARGE": false, "INVALID_TOKEN": false, "TOKEN_EXPIRED": false, "TOKEN_REVOKED": false,
            "UNKNOWN_APP": false, "WECHAT_REJECTED": false, "WECHAT_UNAVAILABLE": true, "RATE_LIMITED": true,
            "SERVER_FULL": true, "NOT_AUTHORIZED": false, "SHUTTING_DOWN": true, "STORE_UNAVAILABLE": true,
            "INTERNAL_ERROR": true,
            "DECRYPT_FAILED": false, "SIGNATURE_MISMATCH": false,
        ]
        #expect(table.count == Status.all.count - 1)
        for (name, retryable) in table {
            let status = Status(name: name)
            #expect(status != nil, "\(name) is a known status")
            #expect(status?.isRetryable == retryable, "\(name)")
        }
        let known = Set(Status.all.map(\.rawValue))
        for raw in UInt8.min...UInt8.max where !known.contains(raw) {
            #expect(!Status(rawValue: raw).isRetryable, "unknown status \(raw)")
        }
    }

    @Test("field limits: one byte over each limit is malformed, the limit itself is accepted")
    func fieldLimits() throws {
        func decode(_ opcode: Opcode, _ body: (inout ByteBuffer) -> Void) -> Result<Request, RequestDecodingError> {
            var bytes = ByteBuffer()
            body(&bytes)
            return Result { () throws(RequestDecodingError) in try Request.decode(opcode: opcode, body: &bytes) }
        }
        func isMalformed(_ result: Result<Request, RequestDecodingError>) -> Bool {
            if case .failure(.malformed) = result { return true }
            return false
        }
        let s = { (n: Int) in String(repeating: "x", count: n) }
        let overLimit: [(String, Opcode, (inout ByteBuffer) -> Void)] = [
            ("app_id 65", .login, { $0.writeWireString(s(65)); $0.writeWireString("c") }),
            ("app_id 0", .login, { $0.writeWireString(""); $0.writeWireString("c") }),
            ("code 257", .login, { $0.writeWireString("a"); $0.writeWireString(s(257)) }),
            ("code 0", .login, { $0.writeWireString("a"); $0.writeWireString("") }),
            ("token 129", .validate, { $0.writeWireString(s(129)) }),
            ("token 129 refresh", .refresh, { $0.writeWireString(s(129)) }),
            ("token 129 revoke", .revoke, { $0.writeWireString(s(129)) }),
            ("openid 129", .revokeUser, { $0.writeWireString("a"); $0.writeWireString(s(129)) }),
            ("caller_id 65", .auth, { $0.writeWireString(s(65)); $0.writeWireBytes([UInt8](repeating: 1, count: 32)) }),
            ("proof 31", .auth, { $0.writeWireString("c"); $0.writeWireBytes([UInt8](repeating: 1, count: 31)) }),
            ("proof 33", .auth, { $0.writeWireString("c"); $0.writeWireBytes([UInt8](repeating: 1, count: 33)) }),
            ("missing second field", .login, { $0.writeWireString("a") }),
            ("trailing byte on ping", .ping, { $0.writeInteger(UInt8(0)) }),
            ("trailing byte on revoke_user", .revokeUser, { $0.writeWireString("a"); $0.writeWireString("o"); $0.writeInteger(UInt8(0)) }),
            ("invalid UTF-8 app_id", .login, { $0.writeInteger(UInt16(1)); $0.writeInteger(UInt8(0xFF)); $0.writeWireString("c") }),
            ("truncated length", .validate, { $0.writeInteger(UInt8(0)) }),
            ("iv 65", .decrypt, { $0.writeWireString("t"); $0.writeWireString("d"); $0.writeWireString(s(65)) }),
            ("encrypted_data 0", .decrypt, { $0.writeWireString("t"); $0.writeWireString(""); $0.writeWireString("i") }),
            ("signature 129", .verifySignature, { $0.writeWireString("t"); $0.writeWireString(""); $0.writeWireString(s(129)) }),
            ("signature 0", .verifySignature, { $0.writeWireString("t"); $0.writeWireString("r"); $0.writeWireString("") }),
            ("phone code 257", .phoneNumber, { $0.writeWireString("t"); $0.writeWireString(s(257)) }),
            ("token 129 check", .checkSessionKey, { $0.writeWireString(s(129)) }),
            ("trailing byte on reset", .resetSessionKey, { $0.writeWireString("t"); $0.writeInteger(UInt8(0)) }),
        ]
        for (name, opcode, body) in overLimit {
            #expect(isMalformed(decode(opcode, body)), "\(name)")
        }
        let atLimit: [(String, Opcode, (inout ByteBuffer) -> Void)] = [
            ("app_id 64, code 256", .login, { $0.writeWireString(s(64)); $0.writeWireString(s(256)) }),
            ("token 128", .validate, { $0.writeWireString(s(128)) }),
            ("openid 128", .revokeUser, { $0.writeWireString(s(64)); $0.writeWireString(s(128)) }),
            ("caller_id 64, proof 32", .auth, { $0.writeWireString(s(64)); $0.writeWireBytes([UInt8](repeating: 1, count: 32)) }),
            ("iv 64", .decrypt, { $0.writeWireString("t"); $0.writeWireString(s(60_000)); $0.writeWireString(s(64)) }),
            ("phone code 256", .phoneNumber, { $0.writeWireString("t"); $0.writeWireString(s(256)) }),
        ]
        for (name, opcode, body) in atLimit {
            #expect(throws: Never.self, "\(name)") { try decode(opcode, body).get() }
        }
    }

    @Test("HELLO is not a request opcode; response decoding rejects bad bodies")
    func responseDecodingErrors() throws {
        var empty = ByteBuffer()
        #expect(throws: RequestDecodingError.unknownOpcode(0)) { try Request.decode(opcode: .hello, body: &empty) }

        // A HELLO whose nonce is not 32 bytes.
        var shortNonce = ByteBuffer()
        shortNonce.writeInteger(UInt8(1))
        shortNonce.writeWireBytes([UInt8](repeating: 0, count: 31))
        shortNonce.writeInteger(UInt32(65_536))
        #expect(throws: WireDecodingError.self) { try Response.decode(status: .ok, opcode: .hello, body: &shortNonce) }

        // Trailing bytes after a REVOKE's empty OK body, and after an error's message.
        var trailing = ByteBuffer(bytes: [0])
        #expect(throws: WireDecodingError.self) { try Response.decode(status: .ok, opcode: .revoke, body: &trailing) }
        var errorTrailing = ByteBuffer()
        errorTrailing.writeWireString("m")
        errorTrailing.writeInteger(UInt8(0))
        #expect(throws: WireDecodingError.self) {
            try Response.decode(status: .tokenExpired, opcode: .validate, body: &errorTrailing)
        }

        // An OK answer to an opcode that has no OK body.
        var nothing = ByteBuffer()
        #expect(throws: WireDecodingError.self) {
            try Response.decode(status: .ok, opcode: Opcode(rawValue: 0x55), body: &nothing)
        }

        // A response frame in another protocol version.
        var bytes = ByteBuffer()
        FrameEncoder.writeFrame(kind: Status.ok.rawValue, requestID: 1, into: &bytes, version: 2) { _ in }
        let frame = try #require(try FrameDecoder.decodeFrame(from: &bytes, maxFrameSize: 65_536))
        #expect(throws: WireDecodingError.self) { try frame.decodeResponse(to: .revoke) }
    }

    @Test("long error messages are clipped to 1024 bytes without splitting a character")
    func messageClipping() throws {
        let long = String(repeating: "用", count: 1000)  // 3000 bytes of UTF-8
        var bytes = encode(.error(ServerError(.internalError, long)), requestID: 1)
        let frame = try #require(try FrameDecoder.decodeFrame(from: &bytes, maxFrameSize: 65_536))
        guard case .error(let decoded) = try frame.decodeResponse(to: .ping) else {
            Issue.record("expected an error")
            return
        }
        #expect(decoded.message.utf8.count <= 1024)
        #expect(decoded.message.utf8.count > 1020)
        #expect(long.hasPrefix(decoded.message))
    }
}
