/// A user as the simulator knows them within one app: the identity jscode2session returns for them.
public struct WeChatSimulatedUser: Sendable, Hashable, Codable {
    /// The app this identity belongs to (openids differ per app).
    public var appID: String
    /// The test's name for the user ("alice"); never sent to clients of jscode2session.
    public var user: String
    /// 28 characters, stable for (appID, user).
    public var openid: String
    /// base64 of 16 bytes: the user's current key. Each login after the first, and each resetusersessionkey,
    /// replaces it (WeChat keeps one current session_key per user).
    public var sessionKey: String
    /// Present only when the user has one (apps bound to an Open Platform account).
    public var unionid: String?

    public init(appID: String, user: String, openid: String, sessionKey: String, unionid: String? = nil) {
        self.appID = appID
        self.user = user
        self.openid = openid
        self.sessionKey = sessionKey
        self.unionid = unionid
    }
}

/// A snapshot of what the simulator has served.
public struct WeChatSimulatorStats: Sendable, Hashable {
    /// Every GET of `/sns/jscode2session` with a well-formed query, whatever the answer (faults included).
    public var jscode2sessionCalls: Int
    /// Codes issued by `mintCode` or `POST /sim/code`.
    public var codesMinted: Int
    /// jscode2session calls that returned an identity.
    public var codesExchanged: Int
    /// jscode2session calls that served an injected fault (error or hang).
    public var faultsServed: Int
    /// POSTs of `/cgi-bin/stable_token` (access-token fetches).
    public var stableTokenCalls: Int = 0
    /// Calls of `/wxa/business/getuserphonenumber`.
    public var phoneNumberCalls: Int = 0
    /// Calls of `/wxa/checksession`.
    public var checkSessionCalls: Int = 0
    /// Calls of `/wxa/resetusersessionkey`.
    public var resetSessionKeyCalls: Int = 0

    public init(jscode2sessionCalls: Int = 0, codesMinted: Int = 0, codesExchanged: Int = 0, faultsServed: Int = 0) {
        self.jscode2sessionCalls = jscode2sessionCalls
        self.codesMinted = codesMinted
        self.codesExchanged = codesExchanged
        self.faultsServed = faultsServed
    }
}
