import Testing
import WXAuthClient
import WXAuthProtocol

/// `WXAuthFailoverClient` against real `wxauthd --dev` processes, and scripted nodes that fail on purpose.
@Suite("Failover between nodes", .serialized)
struct FailoverTests {
    static func status(_ body: () async throws -> Void) async -> Status? {
        do {
            try await body()
            return nil
        } catch let error as ServerError {
            return error.status
        } catch {
            return nil
        }
    }

    @Test func aKilledNodeIsLeftAndTheClientContinuesOnTheOther() async throws {
        let first = try DevNode()
        defer { first.stop() }
        let second = try DevNode()
        defer { second.stop() }
        let nodes = [WXAuthNode(host: "127.0.0.1", port: first.port), WXAuthNode(host: "127.0.0.1", port: second.port)]
        let client = try await WXAuthFailoverClient.connect(nodes: nodes, requestTimeout: .seconds(10))
        #expect(await client.currentNode == nodes[0])
        let onFirst = try await client.login(appID: "wxdevapp00000001", code: try first.mintCode(user: "alice"))
        #expect(try await client.validate(token: onFirst.token).openid == onFirst.session.openid)

        first.kill()

        // PING is safe to repeat: whether the loss is noticed before or after sending, it is answered by the other.
        #expect(try await client.ping() > 0)
        #expect(await client.currentNode == nodes[1])
        let onSecond = try await client.login(appID: "wxdevapp00000001", code: try second.mintCode(user: "bob"))
        #expect(try await client.validate(token: onSecond.token).openid == onSecond.session.openid)
        let refreshed = try await client.refresh(token: onSecond.token)
        #expect(try await client.validate(token: refreshed.token).openid == onSecond.session.openid)
        // Two in-memory nodes share no sessions (a Redis store does): the first node's token is unknown here.
        #expect(await Self.status { _ = try await client.validate(token: onFirst.token) } == .invalidToken)
        #expect(await client.currentNode == nodes[1])
        await client.close()
    }

    @Test func aLoginWhoseConnectionWasLostIsSentOnceMoreToTheNextNode() async throws {
        let lost = try await ScriptedNode.start(.closeOnRequest)
        let node = try DevNode()
        defer { node.stop() }
        let client = try await WXAuthFailoverClient.connect(nodes: [
            WXAuthNode(host: "127.0.0.1", port: lost.port), WXAuthNode(host: "127.0.0.1", port: node.port),
        ])
        let issued = try await client.login(appID: "wxdevapp00000001", code: try node.mintCode(user: "carol"))
        #expect(lost.requestsReceived == [.login])
        #expect(try await client.validate(token: issued.token).openid == issued.session.openid)
        await client.close()
        await lost.stop()
    }

    @Test func aRefreshWhoseConnectionWasLostIsNotRepeatedButTheClientMovesOn() async throws {
        let lost = try await ScriptedNode.start(.closeOnRequest)
        let node = try DevNode()
        defer { node.stop() }
        let nodes = [WXAuthNode(host: "127.0.0.1", port: lost.port), WXAuthNode(host: "127.0.0.1", port: node.port)]
        let client = try await WXAuthFailoverClient.connect(nodes: nodes)
        await #expect(throws: WXAuthClientError.connectionClosed) {
            _ = try await client.refresh(token: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        }
        #expect(lost.requestsReceived == [.refresh])
        #expect(try await client.ping() > 0)
        #expect(await client.currentNode == nodes[1])
        await client.close()
        await lost.stop()
    }

    @Test func shuttingDownMovesTheClientAndOnlyRequestsSafeToRepeatGoAgain() async throws {
        let draining = try await ScriptedNode.start(.answerShuttingDown)
        let node = try DevNode()
        defer { node.stop() }
        let nodes = [WXAuthNode(host: "127.0.0.1", port: draining.port), WXAuthNode(host: "127.0.0.1", port: node.port)]
        let client = try await WXAuthFailoverClient.connect(nodes: nodes)
        // REVOKE changed state (or may have): its SHUTTING_DOWN is the answer, and the client has moved.
        #expect(await Self.status { try await client.revoke(token: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA") }
            == .shuttingDown)
        #expect(draining.requestsReceived == [.revoke])
        let issued = try await client.login(appID: "wxdevapp00000001", code: try node.mintCode(user: "dave"))
        #expect(await client.currentNode == nodes[1])
        #expect(draining.requestsReceived == [.revoke])

        // VALIDATE is safe to repeat: answered SHUTTING_DOWN by the first node, then by the next one.
        let second = try await WXAuthFailoverClient.connect(nodes: nodes)
        #expect(try await second.validate(token: issued.token).openid == issued.session.openid)
        #expect(draining.requestsReceived == [.revoke, .validate])
        #expect(await second.currentNode == nodes[1])
        await client.close()
        await second.close()
        await draining.stop()
    }

    @Test func aNodeThatIsDownAtStartIsSkipped() async throws {
        let gone = try await ScriptedNode.start(.closeOnRequest)
        await gone.stop()  // its port now refuses connections
        let node = try DevNode()
        defer { node.stop() }
        let nodes = [WXAuthNode(host: "127.0.0.1", port: gone.port), WXAuthNode(host: "127.0.0.1", port: node.port)]
        let client = try await WXAuthFailoverClient.connect(nodes: nodes)
        #expect(await client.currentNode == nodes[1])
        // Nothing reached the first node, so even a REFRESH goes to the node that answers.
        #expect(await Self.status { _ = try await client.refresh(token: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA") }
            == .invalidToken)
        await client.close()
    }

    @Test func leavingANodeLetsItAnswerWhatItWasAlreadyAsked() async throws {
        let draining = try await ScriptedNode.start(.drainingWithAPingInFlight)
        let node = try DevNode()
        defer { node.stop() }
        let nodes = [WXAuthNode(host: "127.0.0.1", port: draining.port), WXAuthNode(host: "127.0.0.1", port: node.port)]
        let client = try await WXAuthFailoverClient.connect(nodes: nodes)
        let ping = Task { try await client.ping() }
        while draining.requestsReceived.isEmpty { await Task.yield() }
        // VALIDATE meets SHUTTING_DOWN: the client leaves the node, and repeats the VALIDATE on the next one...
        #expect(await Self.status { _ = try await client.validate(token: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA") }
            == .invalidToken)
        // ...while the PING already in flight there still gets the draining node's own answer.
        #expect(try await ping.value == ScriptedNode.heldPingServerTime)
        #expect(draining.requestsReceived == [.ping, .validate])
        #expect(await client.currentNode == nodes[1])
        await client.close()
        await draining.stop()
    }
}
