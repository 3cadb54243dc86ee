/// Access tokens shared by several wxauthd nodes (through Redis, in the server), so that one node at a time
/// fetches an app's token and none invalidates a newer token another node fetched. `AccessTokenManager` keeps its
/// in-process cache in front of it; without one (the default) each process fetches on its own.
///
/// Implementations never fail because the shared store is away: they answer nil, do nothing, or fetch on their
/// own (as a single node would).
public protocol AccessTokenSharing: Sendable {
    /// The app's stored token, its `lifetime` being the time it has left; nil when there is none.
    func sharedToken(appID: String) async -> AccessToken?

    /// A token fresh enough to keep: the stored one, or one from `fetch`, which runs on one node at a time (the
    /// others wait for it and take what it stored). `fetch`'s error reaches only the caller whose fetch failed.
    func fetchExclusively(
        appID: String, fetch: @Sendable () async throws(WeChatError) -> AccessToken
    ) async throws(WeChatError) -> AccessToken

    /// WeChat refused `token` as stale: forget it, but only if the stored token is still that one.
    func invalidate(appID: String, token: String) async
}
