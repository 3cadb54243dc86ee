import Testing
import WXAuthClient
import WXAuthProtocol

/// PROTOCOL.md "Clients and several nodes", as a table: which failures move a client, which requests go again.
@Suite("FailoverRule")
struct FailoverRuleTests {
    @Test func readsAndLoginAreSafeToRepeatAndChangesAreNot() {
        for opcode: Opcode in [.ping, .validate, .decrypt, .verifySignature, .checkSessionKey, .login] {
            #expect(FailoverRule.isSafeToRepeat(opcode), "\(opcode)")
        }
        for opcode: Opcode in [.refresh, .revoke, .revokeUser, .resetSessionKey, .phoneNumber, .auth] {
            #expect(!FailoverRule.isSafeToRepeat(opcode), "\(opcode)")
        }
    }

    @Test func lostConnectionsAndNodeStatusesMoveAndOthersDoNot() {
        #expect(FailoverRule.movesToAnotherNode(WXAuthClientError.connectionClosed))
        #expect(FailoverRule.movesToAnotherNode(WXAuthClientError.timedOut))
        #expect(FailoverRule.movesToAnotherNode(WXAuthClientError.notSent))
        // Only a request that was never written is known to have reached no node.
        #expect(FailoverRule.reachedNoNode(WXAuthClientError.notSent))
        #expect(!FailoverRule.reachedNoNode(WXAuthClientError.connectionClosed))
        #expect(!FailoverRule.reachedNoNode(WXAuthClientError.timedOut))
        #expect(!FailoverRule.movesToAnotherNode(WXAuthClientError.authenticationRequired))
        #expect(!FailoverRule.movesToAnotherNode(WXAuthClientError.protocolViolation("x")))
        for status: Status in [.shuttingDown, .storeUnavailable, .serverFull, .internalError] {
            #expect(FailoverRule.movesToAnotherNode(ServerError(status, "")), "\(status)")
            #expect(status.isRetryable, "\(status): PROTOCOL.md marks it retryable")
        }
        // Retryable, but about WeChat or the caller: another node would not help.
        for status: Status in [.wechatUnavailable, .rateLimited] {
            #expect(!FailoverRule.movesToAnotherNode(ServerError(status, "")), "\(status)")
        }
        for status: Status in [.invalidToken, .tokenRevoked, .notAuthorized, .malformedRequest, Status(rawValue: 0x3E)] {
            #expect(!FailoverRule.movesToAnotherNode(ServerError(status, "")), "\(status)")
        }
    }

    @Test func nodesParseFromHostColonPort() {
        #expect(WXAuthNode("127.0.0.1:7400") == WXAuthNode(host: "127.0.0.1", port: 7400))
        #expect(WXAuthNode("[::1]:7401") == WXAuthNode(host: "::1", port: 7401))
        #expect(WXAuthNode("[::1]:7401")?.description == "[::1]:7401")
        #expect(WXAuthNode("host") == nil)
        #expect(WXAuthNode(":7400") == nil)
        #expect(WXAuthNode("host:0") == nil)
        #expect(WXAuthNode("host:70000") == nil)
    }
}
