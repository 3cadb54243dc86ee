import Testing


/// Suite traits that start the servers once for a whole suite and always stop them.
public struct StandaloneRedisTrait: SuiteTrait, TestScoping {
    public init() {}
    public func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        try await StandaloneRedis.with { redis in try await StandaloneRedis.$current.withValue(redis) { try await function() } }
    }
}

public struct ClusterRedisTrait: SuiteTrait, TestScoping {
    public init() {}
    public func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        try await ClusterRedis.with { cluster in try await ClusterRedis.$current.withValue(cluster) { try await function() } }
    }
}

extension Trait where Self == StandaloneRedisTrait {
    public static var standaloneRedis: Self { Self() }
}

extension Trait where Self == ClusterRedisTrait {
    public static var redisCluster: Self { Self() }
}

