import WXAuthProtocol

/// PROTOCOL.md "Clients and several nodes", without I/O: when a client leaves a node, and whether the request that
/// made it leave may be sent again to the next node.
public enum FailoverRule {
    /// Whether a request that may have reached a node can be sent once more to another: true for requests that
    /// change nothing (PING, VALIDATE, DECRYPT, VERIFY_SIGNATURE, CHECK_SESSION_KEY) and for LOGIN (the same code
    /// again: the code's outcome is remembered, and WeChat refuses a code twice, so no second session appears).
    /// Never for REFRESH, REVOKE, REVOKE_USER, RESET_SESSION_KEY (they may have changed state already: a repeated
    /// REFRESH outside its grace window would even revoke the session as token reuse), PHONE_NUMBER (its code is
    /// single-use) or AUTH (it belongs to its connection).
    public static func isSafeToRepeat(_ opcode: Opcode) -> Bool {
        switch opcode {
        case .ping, .validate, .decrypt, .verifySignature, .checkSessionKey, .login: true
        default: false
        }
    }

    /// Whether `error` says the node failed rather than the request: the connection was lost or the answer did not
    /// come in time, or a retryable status about the node itself (SHUTTING_DOWN, STORE_UNAVAILABLE, SERVER_FULL,
    /// INTERNAL_ERROR). WECHAT_UNAVAILABLE and RATE_LIMITED concern WeChat or the caller, not the node: they are
    /// returned as they are (a LOGIN answered WECHAT_UNAVAILABLE is retried on the same node, which keeps the
    /// code's late answer).
    public static func movesToAnotherNode(_ error: any Error) -> Bool {
        if let error = error as? ServerError { return movesToAnotherNode(error.status) }
        if let error = error as? WXAuthClientError {
            switch error {
            case .connectionClosed, .timedOut, .notSent: return true
            case .protocolViolation, .authenticationRequired: return false
            }
        }
        return true  // connecting failed (refused, unreachable, reset)
    }

    /// Whether `error` guarantees the request reached no node (it may go to the next one, whatever it is).
    public static func reachedNoNode(_ error: any Error) -> Bool {
        error as? WXAuthClientError == .notSent
    }

    public static func movesToAnotherNode(_ status: Status) -> Bool {
        switch status {
        case .shuttingDown, .storeUnavailable, .serverFull, .internalError: true
        default: false
        }
    }
}
