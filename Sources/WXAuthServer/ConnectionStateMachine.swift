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
    /// An AUTH was answered OK on this connection (open servers included); a second one is refused.
    private(set) var hasAuthenticated = false

    init(authenticationRequired: Bool, nonce: [UInt8], maxInFlight: Int) {
        self.state = authenticationRequired ? .awaitingAuthentication : .ready(.all)
        self.nonce = nonce
        self.maxInFlight = maxInFlight
    }

    /// A frame arrived and was decoded (or failed to decode) into a request. The decoder has already checked, in
    /// PROTOCOL.md's order, the request id, the version, the opcode and the body; authentication and permissions
    /// come after. Before AUTH every answer but AUTH's closes the connection.
    mutating func requestReceived(_ decoded: Result<RequestMessage, RequestDecodingError>) -> RequestAction {
        if case .failure(.reservedRequestID) = decoded, state != .closed {
            // Its answer carries id 0 too, which reads as the server's own frame: the connection cannot go on.
            state = .closed
            return .respondAndClose(.error(RequestDecodingError.reservedRequestID.response))
        }
        switch state {
        case .closed, .authenticating:
            return .ignore
        case .draining:
            return .respond(.error(ServerError(.shuttingDown, "server is shutting down")))
        case .awaitingAuthentication:
            switch decoded {
            case .failure(let error):
                state = .closed
                return .respondAndClose(.error(error.response))
            case .success(.auth(let auth)):
                state = .authenticating(previous: nil)
                return .authenticate(callerID: auth.callerID, proof: auth.proof)
            case .success:
                state = .closed
                return .respondAndClose(.error(ServerError(.notAuthorized, "authenticate with AUTH first")))
            }
        case .ready(let permissions):
            switch decoded {
            case .failure(let error):
                return .respond(.error(error.response))
            case .success(.auth(let auth)):
                // A connection authenticates once: a second AUTH would switch its caller (and its permissions).
                guard !hasAuthenticated else {
                    return .respond(.error(ServerError(.notAuthorized, "this connection has already authenticated")))
                }
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
        hasAuthenticated = true
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
