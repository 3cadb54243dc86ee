import WXAuthProtocol

/// One connection's protocol state, without I/O: authentication, in-flight accounting, draining.
/// The channel handler feeds it events and carries out the actions it returns; it never calls out.
struct ConnectionStateMachine {
    enum State: Equatable {
        case awaitingAuthentication
        /// An AUTH is being checked; nothing else is processed until its result is fed back.
        case authenticating(previous: Permissions?)
        case ready(Permissions)
        case draining
        case closed
    }

    enum RequestAction: Equatable {
        /// Run the request; the caller has counted it as in flight.
        case process(RequestMessage)
        /// Check this AUTH (throttle, then proof against the nonce) and feed the result to `authenticationChecked`.
        case authenticate(callerID: String, proof: [UInt8])
        /// Answer now and keep the connection.
        case respond(Response)
        /// Answer now, then close.
        case respondAndClose(Response)
        /// Ignore (the connection is already closing).
        case ignore
    }

    private(set) var state: State
    let nonce: [UInt8]
    let maxInFlight: Int
    private(set) var inFlight = 0

    init(authenticationRequired: Bool, nonce: [UInt8], maxInFlight: Int) {
        self.state = authenticationRequired ? .awaitingAuthentication : .ready(.all)
        self.nonce = nonce
        self.maxInFlight = maxInFlight
    }

    /// A frame arrived and was decoded (or failed to decode) into a request.
    mutating func requestReceived(_ decoded: Result<RequestMessage, RequestDecodingError>) -> RequestAction {
        switch state {
        case .closed, .authenticating:
            return .ignore
        case .draining:
            return .respond(.error(ServerError(.shuttingDown, "server is shutting down")))
        case .awaitingAuthentication:
            guard case .success(.auth(let auth)) = decoded else {
                state = .closed
                return .respondAndClose(.error(ServerError(.notAuthorized, "authenticate with AUTH first")))
            }
            state = .authenticating(previous: nil)
            return .authenticate(callerID: auth.callerID, proof: auth.proof)
        case .ready(let permissions):
            switch decoded {
            case .failure(let error):
                return .respond(.error(error.response))
            case .success(.auth(let auth)):
                // A repeated AUTH must verify like the first (open servers grant everything to everyone).
                state = .authenticating(previous: permissions)
                return .authenticate(callerID: auth.callerID, proof: auth.proof)
            case .success(let request):
                guard permissions.contains(Permissions(requiredFor: request.opcode)) else {
                    return .respond(.error(ServerError(.notAuthorized, "caller may not \(request.opcode.name)")))
                }
                inFlight += 1
                return .process(request)
            }
        }
    }

    /// The result of an `.authenticate` action: the caller's permissions, or nil when the proof was wrong, the
    /// caller unknown, or the source address throttled.
    mutating func authenticationChecked(_ permissions: Permissions?) -> RequestAction {
        guard case .authenticating = state else { return .ignore }  // closed or draining meanwhile
        guard let permissions else {
            state = .closed
            return .respondAndClose(.error(ServerError(.notAuthorized, "authentication failed")))
        }
        state = .ready(permissions)
        return .respond(.authenticated(permissions: permissions))
    }

    /// The authentication deadline passed. Returns true when the connection must close (still not authenticated).
    mutating func authenticationDeadlinePassed() -> Bool {
        switch state {
        case .awaitingAuthentication, .authenticating(previous: nil):
            state = .closed
            return true
        case .authenticating, .ready, .draining, .closed:
            return false
        }
    }

    /// A processed request's response was written. Returns true when the connection should now close.
    mutating func requestFinished() -> Bool {
        inFlight -= 1
        return state == .draining && inFlight == 0
    }

    /// Graceful shutdown: finish what is in flight, then close. Returns true when it can close now.
    mutating func drain() -> Bool {
        guard state != .closed else { return false }
        state = .draining
        return inFlight == 0
    }

    mutating func closed() { state = .closed }

    /// Whether another request may be taken: backpressure for clients that pipeline without reading replies.
    /// Frames beyond the cap stay undecoded (and the socket unread) until a slot frees.
    var acceptsMoreRequests: Bool {
        switch state {
        case .authenticating, .closed: false
        case .awaitingAuthentication, .ready, .draining: inFlight < maxInFlight
        }
    }

    var isAwaitingAuthentication: Bool {
        switch state {
        case .awaitingAuthentication, .authenticating(previous: nil): true
        default: false
        }
    }
}
