import Foundation
import NIOCore
import Testing
import WXAuthProtocol
@testable import WXAuthServer

/// The "exchanges" of protocol/vectors/vectors.json: conversations on one connection, each run against a real
/// server configured with the exchange's callers. They pin what PROTOCOL.md says about request id 0, framing
/// errors, the checks before and after AUTH, and a second AUTH.
@Suite("Exchange vectors")
struct ExchangeVectorTests {
    struct Caller: Decodable {
        var id: String
        var secret: String
        var permissions: [String]
    }

    struct AuthStep: Decodable {
        var caller_id: String
        var secret: String
        var request_id: UInt32
        var then: String?
    }

    struct Expectation: Decodable {
        var request_id: UInt32
        var status: String
        var permissions: UInt32?
    }

    struct Step: Decodable {
        var send: String?
        var send_auth: AuthStep?
        var expect: Expectation?
        var expect_close: Bool?
    }

    struct Exchange: Decodable {
        var name: String
        var callers: [Caller]
        var steps: [Step]
    }

    struct File: Decodable {
        var exchanges: [Exchange]
    }

    static func load() throws -> [Exchange] {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("protocol/vectors/vectors.json")
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).exchanges
    }

    @Test("every exchange runs as written against a real server")
    func exchanges() async throws {
        let exchanges = try Self.load()
        #expect(exchanges.count >= 10)
        for exchange in exchanges {
            let callers = try exchange.callers.map { caller in
                var permissions: Permissions = []
                for name in caller.permissions {
                    permissions.formUnion(try #require(Permissions(name: name), "\(exchange.name): \(name)"))
                }
                return CallerConfiguration(id: caller.id, secret: caller.secret, permissions: permissions)
            }
            try await TestServer.with(configure: { $0.callers = callers }) { server in
                let raw = try await server.raw()
                for (index, step) in exchange.steps.enumerated() {
                    let label = "\(exchange.name) step \(index)"
                    if let hex = step.send {
                        try await raw.send(Self.bytes(hex: hex))
                    }
                    if let auth = step.send_auth {
                        let nonce = try #require(raw.hello?.nonce, "\(label): HELLO")
                        let proof = try CallerRegistry.proof(secret: auth.secret, nonce: nonce)
                        var frame = ByteBuffer()
                        FrameEncoder.writeRequest(.auth(callerID: auth.caller_id, proof: proof), requestID: auth.request_id, into: &frame)
                        var bytes = Array(frame.readableBytesView)
                        if let then = auth.then { bytes += Self.bytes(hex: then) }
                        try await raw.send(bytes)
                    }
                    if let expected = step.expect {
                        let frame = try await raw.nextFrame()
                        #expect(frame.requestID == expected.request_id, "\(label)")
                        #expect(Status(rawValue: frame.kind).name == expected.status, "\(label)")
                        if let permissions = expected.permissions {
                            let response = try frame.decodeResponse(to: .auth)
                            #expect(response == .authenticated(permissions: Permissions(rawValue: permissions)), "\(label)")
                        } else if frame.kind != Status.ok.rawValue {
                            // Every error body decodes in the common shape (message first).
                            _ = try frame.decodeResponse(to: .ping)
                        }
                    }
                    if step.expect_close == true {
                        #expect(await raw.waitForClose(), "\(label): the server hangs up")
                    }
                }
                await raw.close()
            }
        }
    }

    static func bytes(hex: String) -> [UInt8] {
        var result: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            result.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return result
    }
}

/// The "auth_proofs" of vectors.json: the caller secret is the HMAC key as its UTF-8 bytes, never hex-decoded.
@Suite("AUTH proof vectors")
struct AuthProofVectorTests {
    struct ProofVector: Decodable {
        var secret: String
        var nonce_hex: String
        var proof_hex: String
    }

    struct File: Decodable {
        var auth_proofs: [ProofVector]
    }

    @Test("every proof is HMAC-SHA256(UTF-8 secret, \"wxauth-auth-v1\" || nonce)")
    func proofs() throws {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("protocol/vectors/vectors.json")
        let vectors = try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).auth_proofs
        #expect(vectors.count >= 2)
        for vector in vectors {
            let proof = try CallerRegistry.proof(secret: vector.secret, nonce: ExchangeVectorTests.bytes(hex: vector.nonce_hex))
            #expect(proof == ExchangeVectorTests.bytes(hex: vector.proof_hex), "\(vector.secret.prefix(8))")
            let registry = try CallerRegistry([CallerConfiguration(id: "c", secret: vector.secret, permissions: [.validate])])
            #expect(registry.authenticate(callerID: "c", proof: proof, nonce: ExchangeVectorTests.bytes(hex: vector.nonce_hex))
                == [.validate, .ping])
        }
    }
}
