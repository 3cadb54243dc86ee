import Testing
import WXAuthBenchCore

@Suite("Redis INFO fields")
struct RedisInfoTests {
    @Test func infoFieldsAreFoundOnCRLFLines() {
        let info = "# Memory\r\nused_memory:23910504\r\nused_memory_human:22.80M\r\n"
        #expect(RedisInfo.field("used_memory", in: info) == "23910504")
        #expect(RedisInfo.field("used_memory_rss", in: info) == nil)
    }
}
