/// Everything the simulator remembers, and the rules of jscode2session. No I/O: the HTTP layer and the
/// in-process API both drive it under one lock, and tests can drive it directly.
struct SimulatorState: Sendable {
    /// What jscode2session answers (the rid is added when it is encoded).
    enum Reply: Sendable, Hashable {
        case identity(WeChatSimulatedUser)
        case error(errcode: Int32, errmsg: String)
    }

    /// A queued fault: answer `errcode` (if set) after waiting `hang`, for the next `remaining` calls.
    struct Fault: Sendable, Hashable {
        var errcode: Int32?
        var errmsg: String?
        var hang: Duration
        var remaining: Int
    }

    struct UserKey: Hashable, Sendable {
        var appID: String
        var user: String
    }

    private struct IssuedCode: Sendable {
        var appID: String
        var user: String
        var issuedAt: ContinuousClock.Instant
        var used: Bool
    }

    /// The longest code accepted from a caller (WeChat's are 32 characters).
    static let maximumCodeLength = 512

    private(set) var apps: [String: String]
    var users: [UserKey: WeChatSimulatedUser] = [:]
    /// Users who have logged in at least once: each later login gets a new session_key, as at WeChat.
    private var loggedIn: Set<UserKey> = []
    /// Access tokens, phone codes and their counters (SimulatorState+UserData.swift).
    var userData: SimulatorUserData
    private var openids: Set<String> = []
    private var codes: [String: IssuedCode] = [:]
    private var faults: [Fault] = []
    private let codeLifetime: Duration
    private let baselineLatency: Duration
    private(set) var latency: Duration
    private var baseStats = WeChatSimulatorStats()
    var stats: WeChatSimulatorStats {
        var stats = baseStats
        stats.stableTokenCalls = userData.stableTokenCalls
        stats.phoneNumberCalls = userData.phoneNumberCalls
        stats.checkSessionCalls = userData.checkSessionCalls
        stats.resetSessionKeyCalls = userData.resetSessionKeyCalls
        return stats
    }

    init(configuration: WeChatSimulatorConfiguration) {
        self.apps = configuration.apps
        self.codeLifetime = configuration.codeLifetime
        self.baselineLatency = configuration.latency
        self.latency = configuration.latency
        self.userData = SimulatorUserData(accessTokenLifetime: configuration.accessTokenLifetime)
        for user in configuration.users {
            self.users[UserKey(appID: user.appID, user: user.user)] = user
            self.openids.insert(user.openid)
        }
    }

    // MARK: Users and codes

    /// The user's identity in `appID`, created on first use.
    mutating func identity(appID: String, user: String) throws(WeChatSimulatorError) -> WeChatSimulatedUser {
        guard self.apps[appID] != nil else {
            throw WeChatSimulatorError(.unknownApp, "unknown appid \(appID)")
        }
        let key = UserKey(appID: appID, user: user)
        if let existing = self.users[key] {
            return existing
        }
        var openid = RandomIdentifiers.openid()
        while self.openids.contains(openid) {
            openid = RandomIdentifiers.openid()
        }
        let created = WeChatSimulatedUser(
            appID: appID,
            user: user,
            openid: openid,
            sessionKey: RandomIdentifiers.sessionKey(),
            unionid: nil
        )
        self.users[key] = created
        self.openids.insert(openid)
        return created
    }

    /// Issues a code for the user (`code` chooses its text; otherwise a random WeChat-like one).
    mutating func mintCode(
        appID: String,
        user: String,
        code: String?,
        now: ContinuousClock.Instant
    ) throws(WeChatSimulatorError) -> (code: String, user: WeChatSimulatedUser) {
        let identity = try self.identity(appID: appID, user: user)
        let issued: String
        if let code {
            guard !code.isEmpty, code.utf8.count <= Self.maximumCodeLength else {
                throw WeChatSimulatorError(.invalidCode, "a code must be 1...\(Self.maximumCodeLength) bytes")
            }
            guard self.codes[code] == nil else {
                throw WeChatSimulatorError(.codeAlreadyIssued, "that code was already issued")
            }
            issued = code
        } else {
            var random = RandomIdentifiers.code()
            while self.codes[random] != nil {
                random = RandomIdentifiers.code()
            }
            issued = random
        }
        self.baseStats.codesMinted += 1
        if self.baseStats.codesMinted % 1024 == 0 {
            self.pruneExpiredCodes(now: now)
        }
        self.codes[issued] = IssuedCode(appID: appID, user: user, issuedAt: now, used: false)
        return (issued, identity)
    }

    /// Forgets codes past their lifetime (they would answer 40029 either way), bounding memory in long runs.
    private mutating func pruneExpiredCodes(now: ContinuousClock.Instant) {
        self.codes = self.codes.filter { now - $0.value.issuedAt <= self.codeLifetime }
    }

    // MARK: jscode2session

    /// Answers one jscode2session call and tells how long to wait before sending the answer.
    mutating func exchange(parameters: [String: String], now: ContinuousClock.Instant) -> (reply: Reply, delay: Duration) {
        self.baseStats.jscode2sessionCalls += 1
        var delay = self.latency
        if let fault = self.takeFault() {
            self.baseStats.faultsServed += 1
            delay += fault.hang
            if let errcode = fault.errcode {
                return (.error(errcode: errcode, errmsg: fault.errmsg ?? Self.errmsg(for: errcode)), delay)
            }
        }
        let reply = self.validateAndConsume(parameters: parameters, now: now)
        if case .identity = reply {
            self.baseStats.codesExchanged += 1
        }
        return (reply, delay)
    }

    private mutating func validateAndConsume(parameters: [String: String], now: ContinuousClock.Instant) -> Reply {
        guard let appID = parameters["appid"], !appID.isEmpty else { return Self.error(41002) }
        guard let secret = self.apps[appID] else { return Self.error(40013) }
        guard let givenSecret = parameters["secret"], !givenSecret.isEmpty else { return Self.error(41004) }
        guard givenSecret == secret else { return Self.error(40125) }
        guard let code = parameters["js_code"], !code.isEmpty else { return Self.error(41008) }
        guard parameters["grant_type"] == "authorization_code" else { return Self.error(40002) }
        guard var issued = self.codes[code], issued.appID == appID else { return Self.error(40029) }
        guard now - issued.issuedAt <= self.codeLifetime else { return Self.error(40029) }
        guard !issued.used else { return Self.error(40163) }
        let key = UserKey(appID: appID, user: issued.user)
        guard var user = self.users[key] else { return Self.error(40029) }
        issued.used = true
        self.codes[code] = issued
        // WeChat keeps one current session_key per user; a fresh login replaces it (the first one keeps the key
        // the user was created with, so fixtures stay exact).
        if !self.loggedIn.insert(key).inserted {
            user.sessionKey = RandomIdentifiers.sessionKey()
            self.users[key] = user
        }
        return .identity(user)
    }

    // MARK: Faults and latency

    /// Queues a fault for the next `fault.remaining` calls (after any already queued).
    mutating func inject(_ fault: Fault) {
        guard fault.remaining > 0 else { return }
        self.faults.append(fault)
    }

    /// Sets the latency added to every call.
    mutating func setLatency(_ latency: Duration) {
        self.latency = latency
    }

    /// Drops queued faults and restores the configured latency.
    mutating func resetFaults() {
        self.faults.removeAll()
        self.latency = self.baselineLatency
    }

    private mutating func takeFault() -> Fault? {
        guard var fault = self.faults.first else { return nil }
        fault.remaining -= 1
        if fault.remaining == 0 {
            self.faults.removeFirst()
        } else {
            self.faults[0] = fault
        }
        return fault
    }

    // MARK: WeChat's messages

    private static func error(_ errcode: Int32) -> Reply {
        .error(errcode: errcode, errmsg: self.errmsg(for: errcode))
    }

    /// WeChat's errmsg for an errcode (without the rid suffix).
    static func errmsg(for errcode: Int32) -> String {
        switch errcode {
        case -1: return "system error"
        case 40002: return "invalid grant_type"
        case 40013: return "invalid appid"
        case 40029: return "invalid code"
        case 40125: return "invalid appsecret"
        case 40163: return "code been used"
        case 40226: return "high risk level user"
        case 41002: return "appid missing"
        case 41004: return "appsecret missing"
        case 41008: return "missing code"
        case 45011: return "api minute-quota reach limit mm/hh"
        case 40001: return "invalid credential, access_token is invalid or not latest"
        case 40003: return "invalid openid"
        case 41001: return "access_token missing"
        case 42001: return "access_token expired"
        case 47001: return "data format error"
        case 87009: return "invalid signature"
        default: return "simulated error"
        }
    }
}
