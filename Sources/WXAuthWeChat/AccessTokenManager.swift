import NIOConcurrencyHelpers
import Logging
import Synchronization

/// An app's access token, as `stable_token` returned it.
public struct AccessToken: Sendable, Hashable {
    public var value: String
    /// `expires_in` (7200 s at WeChat).
    public var lifetime: Duration

    public init(value: String, lifetime: Duration) {
        self.value = value
        self.lifetime = lifetime
    }
}

/// Where access tokens come from (the real one is `stable_token`; tests may count calls).
public protocol AccessTokenFetching: Sendable {
    func fetchAccessToken(appID: String, secret: String) async throws(WeChatError) -> AccessToken
}

/// Keeps one access token per app: fetched on first use, refreshed ahead of expiry in the background, at most
/// one fetch in flight per app however many callers wait, and dropped when WeChat calls it stale (40001/42001)
/// so the next caller fetches a new one. Tokens are never logged.
///
/// With `sharing` (several nodes), a fetch first takes the token the nodes share; when there is none it fetches
/// through `sharing.fetchExclusively` (one node at a time), refreshes ahead through it too, and a stale token is
/// invalidated in the shared store as well (only if it is still the stored one).
public final class AccessTokenManager: Sendable {
    private struct Cached: Sendable {
        var value: String
        /// After this the token is not used at all.
        var expiresAt: ContinuousClock.Instant
        /// After this a background refresh starts (callers keep using the token meanwhile).
        var refreshAt: ContinuousClock.Instant
    }

    private struct AppState: Sendable {
        var cached: Cached?
        var inFlight: Task<Result<Cached, WeChatError>, Never>?
    }

    private let fetcher: any AccessTokenFetching
    private let sharing: (any AccessTokenSharing)?
    private let state = NIOLockedValueBox<[String: AppState]>([:])
    private let fetches = Atomic<Int>(0)
    private let now: @Sendable () -> ContinuousClock.Instant
    private let logger: Logger

    /// - Parameters:
    ///   - sharing: tokens shared with other nodes; nil (the default): this process fetches on its own.
    ///   - now: the clock (tests move it forward).
    public init(
        fetcher: any AccessTokenFetching, sharing: (any AccessTokenSharing)? = nil, logger: Logger,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        self.fetcher = fetcher
        self.sharing = sharing
        self.logger = logger
        self.now = now
    }

    /// How many fetches have been started (tests, metrics). With `sharing`, a fetch may end with the shared token
    /// instead of a call to WeChat: `fetcher` counts those calls.
    public var fetchCount: Int { fetches.load(ordering: .relaxed) }

    /// A usable access token for `appID`, fetching one when there is none (or it has expired).
    public func token(appID: String, secret: String) async throws(WeChatError) -> String {
        enum Step { case ready(String), wait(Task<Result<Cached, WeChatError>, Never>) }
        let now = self.now()
        let step = state.withLockedValue { states -> Step in
            var app = states[appID] ?? AppState()
            defer { states[appID] = app }
            if let cached = app.cached, now < cached.expiresAt {
                if now >= cached.refreshAt && app.inFlight == nil {
                    app.inFlight = startFetch(appID: appID, secret: secret, isRefresh: true)
                }
                return .ready(cached.value)
            }
            app.cached = nil
            if let inFlight = app.inFlight { return .wait(inFlight) }
            let task = startFetch(appID: appID, secret: secret, isRefresh: false)
            app.inFlight = task
            return .wait(task)
        }
        switch step {
        case .ready(let value):
            return value
        case .wait(let task):
            return try await task.value.get().value
        }
    }

    /// Forgets `token` if it is still the app's current one (WeChat answered 40001 or 42001 with it). A stale
    /// answer for a token already replaced changes nothing, so a burst of failures causes one fetch. With
    /// `sharing`, the shared copy is invalidated too, in the background (`withToken` waits for it).
    public func invalidate(appID: String, token: String) {
        forgetLocally(appID: appID, token: token)
        if let sharing { Task { await sharing.invalidate(appID: appID, token: token) } }
    }

    private func forgetLocally(appID: String, token: String) {
        state.withLockedValue { states in
            if states[appID]?.cached?.value == token { states[appID]?.cached = nil }
        }
    }

    /// Runs `call` with the app's token; when WeChat says the token is stale, drops it and tries once more with
    /// a fresh one.
    public func withToken<T: Sendable>(
        appID: String, secret: String, _ call: (String) async throws(WeChatError) -> T
    ) async throws(WeChatError) -> T {
        let token = try await self.token(appID: appID, secret: secret)
        do {
            return try await call(token)
        } catch where error.isStaleAccessToken {
            logger.info("access token refused by WeChat; fetching a new one", metadata: [
                "wechat.appid": "\(appID)", "wechat.errcode": "\(error.errcode ?? 0)",
            ])
            forgetLocally(appID: appID, token: token)
            await sharing?.invalidate(appID: appID, token: token)
            let fresh = try await self.token(appID: appID, secret: secret)
            return try await call(fresh)
        }
    }

    /// Called with the lock held: the task takes the lock itself only after this returns.
    /// - Parameter isRefresh: the current token is still usable and due for replacement (refresh ahead), so a
    ///   shared token is not taken as it is: `sharing.fetchExclusively` decides whether it is fresh enough.
    private func startFetch(appID: String, secret: String, isRefresh: Bool) -> Task<Result<Cached, WeChatError>, Never> {
        fetches.add(1, ordering: .relaxed)
        let fetcher = self.fetcher
        let sharing = self.sharing
        return Task { [self] in
            let result: Result<Cached, WeChatError>
            do throws(WeChatError) {
                let token = try await Self.obtain(appID: appID, secret: secret, fetcher: fetcher, sharing: sharing, isRefresh: isRefresh)
                let obtained = self.now()
                let lifetime = max(token.lifetime, .seconds(1))
                // Stop using it a little before WeChat does; start replacing it well before that.
                let safety = min(Duration.seconds(60), lifetime / 10)
                let ahead = min(Duration.seconds(300), lifetime / 4)
                result = .success(Cached(value: token.value, expiresAt: obtained + lifetime - safety, refreshAt: obtained + lifetime - ahead))
            } catch {
                logger.warning("access token fetch failed", metadata: ["wechat.appid": "\(appID)", "wechat.failure": "\(error)"])
                result = .failure(error)
            }
            state.withLockedValue { states in
                states[appID]?.inFlight = nil
                if case .success(let cached) = result { states[appID]?.cached = cached }
            }
            return result
        }
    }

    /// A token from the shared store when there is one, else from `fetcher` (through the shared store's lock).
    private static func obtain(
        appID: String, secret: String, fetcher: any AccessTokenFetching, sharing: (any AccessTokenSharing)?, isRefresh: Bool
    ) async throws(WeChatError) -> AccessToken {
        guard let sharing else { return try await fetcher.fetchAccessToken(appID: appID, secret: secret) }
        if !isRefresh, let shared = await sharing.sharedToken(appID: appID), shared.lifetime > .zero { return shared }
        return try await sharing.fetchExclusively(appID: appID) { () throws(WeChatError) -> AccessToken in
            try await fetcher.fetchAccessToken(appID: appID, secret: secret)
        }
    }
}
