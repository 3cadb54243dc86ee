/// One mini program the service serves: its WeChat credentials and its session lifetimes.
public struct AppConfiguration: Sendable, Hashable {
    public var appID: String
    /// The AppSecret for jscode2session. Never logged, never sent to callers.
    public var secret: String
    /// Sliding: VALIDATE pushes it forward. Default 30 minutes (NIST AAL2).
    public var idleTimeoutMilliseconds: Int64
    /// Never extended. Default 12 hours (NIST AAL2).
    public var absoluteLifetimeMilliseconds: Int64

    public static let defaultIdleTimeoutMilliseconds: Int64 = 30 * 60 * 1000
    public static let defaultAbsoluteLifetimeMilliseconds: Int64 = 12 * 60 * 60 * 1000

    public init(
        appID: String, secret: String,
        idleTimeoutMilliseconds: Int64 = AppConfiguration.defaultIdleTimeoutMilliseconds,
        absoluteLifetimeMilliseconds: Int64 = AppConfiguration.defaultAbsoluteLifetimeMilliseconds
    ) {
        self.appID = appID
        self.secret = secret
        self.idleTimeoutMilliseconds = idleTimeoutMilliseconds
        self.absoluteLifetimeMilliseconds = absoluteLifetimeMilliseconds
    }
}

/// The configured apps, each with a small index that session records store instead of the app id string.
public struct AppRegistry: Sendable {
    public let apps: [AppConfiguration]
    private let indexByID: [String: UInt16]

    public init(_ apps: [AppConfiguration]) {
        precondition(apps.count < Int(UInt16.max), "too many apps")
        var index: [String: UInt16] = [:]
        var unique: [AppConfiguration] = []
        for app in apps where index[app.appID] == nil {
            index[app.appID] = UInt16(unique.count)
            unique.append(app)
        }
        self.apps = unique
        self.indexByID = index
    }

    public func index(of appID: String) -> UInt16? { indexByID[appID] }

    public subscript(index: UInt16) -> AppConfiguration { apps[Int(index)] }

    public func app(_ appID: String) -> AppConfiguration? { index(of: appID).map { self[$0] } }

    public var isEmpty: Bool { apps.isEmpty }
}
