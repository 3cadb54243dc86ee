import WXAuthProtocol

/// Every wxauthd operation, typed, over one `send`: the one-connection `WXAuthClient` and the several-node
/// `WXAuthFailoverClient` share them. Error answers are thrown as `ServerError` (check `isRetryable`).
public protocol WXAuthOperations: Sendable {
    /// Sends any request and returns the response, error answers included (for tools that show every status).
    func send(_ request: Request) async throws -> Response
}

extension WXAuthOperations {
    public func ping() async throws -> Int64 {
        guard case .pong(let time) = try await expectOK(.ping) else { throw unexpectedBody() }
        return time
    }

    public func login(appID: String, code: String) async throws -> WXAuthClient.IssuedSession {
        guard case .loggedIn(let token, let session) = try await expectOK(.login(appID: appID, code: code)) else {
            throw unexpectedBody()
        }
        return WXAuthClient.IssuedSession(token: token, session: session)
    }

    public func validate(token: String) async throws -> SessionView {
        guard case .validated(let session) = try await expectOK(.validate(token: token)) else { throw unexpectedBody() }
        return session
    }

    public func refresh(token: String) async throws -> WXAuthClient.IssuedSession {
        guard case .refreshed(let token, let session) = try await expectOK(.refresh(token: token)) else {
            throw unexpectedBody()
        }
        return WXAuthClient.IssuedSession(token: token, session: session)
    }

    public func revoke(token: String) async throws {
        guard case .revoked = try await expectOK(.revoke(token: token)) else { throw unexpectedBody() }
    }

    /// Revokes every session of one user; returns how many there were.
    public func revokeUser(appID: String, openid: String) async throws -> Int {
        guard case .userRevoked(let count) = try await expectOK(.revokeUser(appID: appID, openid: openid)) else {
            throw unexpectedBody()
        }
        return Int(count)
    }

    // MARK: User data (the session_key stays in wxauthd)

    /// Decrypts `encryptedData` (from `wx.getUserInfo` and friends) with the session's session_key; returns the
    /// plaintext JSON. Refusals are `ServerError` DECRYPT_FAILED with a `reason`.
    public func decrypt(token: String, encryptedData: String, iv: String) async throws -> String {
        guard case .decrypted(let json) = try await expectOK(.decrypt(token: token, encryptedData: encryptedData, iv: iv)) else {
            throw unexpectedBody()
        }
        return json
    }

    /// Checks `signature == sha1(rawData + session_key)`; a mismatch throws SIGNATURE_MISMATCH.
    public func verifySignature(token: String, rawData: String, signature: String) async throws {
        guard case .signatureVerified = try await expectOK(.verifySignature(token: token, rawData: rawData, signature: signature)) else {
            throw unexpectedBody()
        }
    }

    /// The user's phone number for a getPhoneNumber button `code`.
    public func phoneNumber(token: String, code: String) async throws -> PhoneNumber {
        guard case .phoneNumber(let phone) = try await expectOK(.phoneNumber(token: token, code: code)) else { throw unexpectedBody() }
        return phone
    }

    /// Whether WeChat still considers the session's stored session_key current.
    public func checkSessionKey(token: String) async throws -> Bool {
        guard case .sessionKeyChecked(let current) = try await expectOK(.checkSessionKey(token: token)) else { throw unexpectedBody() }
        return current
    }

    /// Asks WeChat for a new session_key and stores it in the session.
    public func resetSessionKey(token: String) async throws {
        guard case .sessionKeyReset = try await expectOK(.resetSessionKey(token: token)) else { throw unexpectedBody() }
    }

    func expectOK(_ request: Request) async throws -> Response {
        let response = try await send(request)
        if case .error(let error) = response { throw error }
        return response
    }

    func unexpectedBody() -> WXAuthClientError {
        .protocolViolation("response body does not match the request")
    }
}
