import Logging
import WXAuthCrypto
import WXAuthPersistence
import WXAuthSessions

extension SessionPersistence {
    /// Takes the data directory, loads the snapshot and journal into `store` and starts journaling; nil when
    /// persistence is off. Runs before the server binds, so no request sees a half-loaded store.
    static func open(
        _ configuration: PersistenceConfiguration?, store: SessionStore, random: any RandomSource, logger: Logger
    ) throws -> SessionPersistence? {
        guard let configuration else { return nil }
        let persistence = try SessionPersistence(configuration: configuration, store: store, random: random, logger: logger)
        persistence.load()
        do {
            try persistence.start()
        } catch {
            persistence.shutdown(finalSnapshot: false)
            throw error
        }
        return persistence
    }
}
