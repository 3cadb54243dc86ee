import Testing
import WXAuthRedis
@testable import WXAuthSharedStore

@Suite struct SharedStoreKeysTests {
    @Test func prefixesAreDistinct() {
        let prefixes = [SharedStoreKeys.sessionPrefix, SharedStoreKeys.userIndexPrefix, SharedStoreKeys.userWatermarkPrefix,
                        SharedStoreKeys.codePrefix, SharedStoreKeys.ratePrefix, SharedStoreKeys.accessTokenPrefix]
        #expect(Set(prefixes).count == prefixes.count)
    }
}
