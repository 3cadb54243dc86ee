import NIOCore
import Testing
@testable import WXAuthRedis

@Suite("Cluster topology parsing and backoff")
struct ClusterTopologyTests {
    private func text(_ value: String) -> RESP3Value { .blobString(ByteBuffer(string: value)) }

    private func node(_ port: Int, role: String, health: String = "online") -> RESP3Value {
        .map([
            .init(key: text("id"), value: text("id\(port)")), .init(key: text("port"), value: .integer(Int64(port))),
            .init(key: text("ip"), value: text("127.0.0.1")), .init(key: text("endpoint"), value: text("127.0.0.1")),
            .init(key: text("role"), value: text(role)), .init(key: text("health"), value: text(health)),
        ])
    }

    @Test func shardsReplyGivesPrimariesAndRanges() throws {
        let reply = RESP3Value.array([
            .map([.init(key: text("slots"), value: .array([.integer(0), .integer(5460), .integer(6000), .integer(6001)])),
                  .init(key: text("nodes"), value: .array([node(7000, role: "master"), node(7003, role: "replica")]))]),
            // After a failover: the dead old master is listed with health fail; the online one is the primary.
            .map([.init(key: text("slots"), value: .array([.integer(5461), .integer(5999)])),
                  .init(key: text("nodes"), value: .array([node(7001, role: "master", health: "fail"), node(7004, role: "master")]))]),
            .map([.init(key: text("slots"), value: .array([])), .init(key: text("nodes"), value: .array([node(7009, role: "master")]))]),
        ])
        let topology = try ClusterTopology(shardsReply: reply)
        #expect(topology.primaries.map(\.port) == [7000, 7004])
        #expect(topology.shards[0].slots == [0...5460, 6000...6001])
        #expect(topology.shards[0].replicas.map(\.port) == [7003])
        let map = SlotMap(topology: topology)
        #expect(map.primary(for: 0)?.port == 7000)
        #expect(map.primary(for: 5461)?.port == 7004)
        #expect(map.primary(for: 6001)?.port == 7000)
        #expect(map.primary(for: 16383) == nil)
        #expect(!map.coversEverySlot)
    }

    @Test func slotsReplyIsTheFallback() throws {
        let reply = RESP3Value.array([
            .array([.integer(0), .integer(8191), .array([text("127.0.0.1"), .integer(7000), text("a")]),
                    .array([text("127.0.0.1"), .integer(7002), text("c")])]),
            .array([.integer(8192), .integer(16383), .array([text("127.0.0.1"), .integer(7001), text("b")])]),
        ])
        var map = SlotMap(topology: try ClusterTopology(slotsReply: reply))
        #expect(map.coversEverySlot)
        #expect(map.primary(for: 8191)?.port == 7000)
        #expect(map.primary(for: 8192)?.port == 7001)
        map.assign(8192, to: RedisAddress(host: "127.0.0.1", port: 7005))
        #expect(map.primary(for: 8192)?.port == 7005)
        #expect(map.primary(for: 8193)?.port == 7001)
    }

    @Test func malformedTopologyIsATypedError() {
        #expect(throws: RedisClientError.self) { try ClusterTopology(shardsReply: .integer(1)) }
        #expect(throws: RedisClientError.self) {
            try ClusterTopology(slotsReply: .array([.array([.integer(10), .integer(5), .array([self.text("h"), .integer(1)])])]))
        }
    }

    @Test func backoffGrowsWithJitterAndIsCapped() {
        let backoff = ReconnectBackoff(initial: .milliseconds(100), maximum: .seconds(1))
        var generator = SystemRandomNumberGenerator()
        #expect(backoff.delay(afterFailures: 0) == .zero)
        for _ in 0..<100 {
            let first = backoff.delay(afterFailures: 1, using: &generator)
            #expect(first >= .milliseconds(50) && first <= .milliseconds(100))
            let third = backoff.delay(afterFailures: 3, using: &generator)
            #expect(third >= .milliseconds(200) && third <= .milliseconds(400))
            let late = backoff.delay(afterFailures: 50, using: &generator)
            #expect(late >= .milliseconds(500) && late <= .seconds(1))
        }
        let samples = Set((0..<20).map { _ in backoff.delay(afterFailures: 4, using: &generator) })
        #expect(samples.count > 1)  // jittered, not lock-step
    }
}
