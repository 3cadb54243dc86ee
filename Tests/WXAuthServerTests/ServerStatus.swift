import WXAuthClient
import WXAuthProtocol

/// The status a client call ended with: `.ok`, the server's error status, or nil for a local failure.
enum ServerStatus {
    static func of(_ body: () async throws -> Void) async -> Status? {
        do {
            try await body()
            return .ok
        } catch let error as ServerError {
            return error.status
        } catch {
            return nil
        }
    }
}
