import WXAuthProtocol

/// One connection's protocol state, without I/O: authentication, in-flight accounting, draining.
/// The channel handler feeds it events and carries out the actions it returns.
struct ConnectionStateMachine {
    enum State: Equatable {
        case awaitingAuthentication
        case ready(Permissions)
        case draining
        case closed
    }

    enum RequestAction: Equatable {
        /// Run the request; the caller has counted it as in flight.
        case process(Request)
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
    mutating func requestReceived(
        _ decoded: Result<Request, RequestDecodingError>, authenticate: (String, [UInt8]) -> Permissions?
    ) -> RequestAction {
        switch state {
        case .closed:
            return .ignore
        case .draining:
            return .respond(.error(ServerError(.shuttingDown, "server is shutting down")))
        case .awaitingAuthentication:
            guard case .success(.auth(let callerID, let proof)) = decoded else {
                state = .closed
                return .respondAndClose(.error(ServerError(.notAuthorized, "authenticate with AUTH first")))
            }
            guard let permissions = authenticate(callerID, proof) else {
                state = .closed
                return .respondAndClose(.error(ServerError(.notAuthorized, "authentication failed")))
            }
            state = .ready(permissions)
            return .respond(.authenticated(permissions: permissions))
        case .ready(let permissions):
            switch decoded {
            case .failure(let error):
                return .respond(.error(error.response))
            case .success(.auth(let callerID, let proof)):
                // A repeated AUTH must verify like the first (open servers grant everything to everyone).
                guard let granted = authenticate(callerID, proof) else {
                    state = .closed
                    return .respondAndClose(.error(ServerError(.notAuthorized, "authentication failed")))
                }
                state = .ready(granted)
                return .respond(.authenticated(permissions: granted))
            case .success(let request):
                guard permissions.contains(Permissions(requiredFor: request.opcode)) else {
                    return .respond(.error(ServerError(.notAuthorized, "caller may not \(request.opcode.name)")))
                }
                inFlight += 1
                return .process(request)
            }
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

    /// Whether more bytes may be read: backpressure for clients that pipeline without reading replies.
    var acceptsMoreRequests: Bool { inFlight < maxInFlight }
}
