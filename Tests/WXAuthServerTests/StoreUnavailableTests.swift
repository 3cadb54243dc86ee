import Foundation
import Testing
import WXAuthClient
import WXAuthPersistence
import WXAuthProtocol
import WXAuthServer

/// A data directory that refuses writes, seen from a client: changes are answered STORE_UNAVAILABLE (never an OK
/// that a restart would take back), LOGIN does not spend the code, reads keep working, and the server recovers
/// by itself once the disk accepts writes.
@Suite("Store unavailable over a real socket")
struct StoreUnavailableTests {
    @Test func aFailingDiskRefusesChangesWithoutSpendingCodesAndRecovers() async throws {
        let directory = NSTemporaryDirectory() + "wxauth-store-unavailable-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let disk = DiskFaultInjection()
        try await TestServer.with(configure: { configuration in
            var persistence = PersistenceConfiguration(directory: directory)
            persistence.flushPolicy = .always
            persistence.flushIntervalMilliseconds = 50  // how soon the retry notices the disk is back
            persistence.diskFaults = disk
            configuration.persistence = persistence
        }) { server in
            let client = try await server.client()
            let kept = try await server.login(client)

            disk.failWrites(afterBytes: 3)
            // The LOGIN whose own write fails: refused, not acknowledged (WeChat has spent this code).
            let spent = try server.mintCode(user: "bob")
            #expect(await ServerStatus.of { _ = try await client.login(appID: TestServer.appID, code: spent) } == .storeUnavailable)
            // From now on changes are refused before anything happens, and LOGIN before WeChat sees the code.
            let code = try server.mintCode(user: "carol")
            let refused = await ServerStatus.of { _ = try await client.login(appID: TestServer.appID, code: code) }
            #expect(refused == .storeUnavailable)
            #expect(refused?.isRetryable == true)
            #expect(await ServerStatus.of { try await client.revoke(token: kept.token) } == .storeUnavailable)
            #expect(await ServerStatus.of { _ = try await client.refresh(token: kept.token) } == .storeUnavailable)
            #expect(await ServerStatus.of { _ = try await client.validate(token: kept.token) } == .ok)
            #expect(server.logs.all.contains { $0.contains("journal: write failed") })

            disk.heal()
            var recovered = false
            for _ in 0..<200 where !recovered {
                try await Task.sleep(for: .milliseconds(25))
                recovered = server.logs.all.contains { $0.contains("journal: writable again") }
            }
            #expect(recovered)
            // The refused LOGIN did not spend the code: the same code now opens the session.
            let carol = try await client.login(appID: TestServer.appID, code: code)
            #expect(try await client.validate(token: carol.token).openid == carol.session.openid)
            // The code WeChat spent for the failed write: its answer was kept, so the retry gets a session, not 40163.
            let bob = try await client.login(appID: TestServer.appID, code: spent)
            #expect(try await client.validate(token: bob.token).openid == bob.session.openid)
            #expect(bob.session.openid != carol.session.openid)
            try await client.close()
        }
    }
}
