import NIOCore
import Testing
import WXAuthProtocol
import WXAuthSessions
@testable import WXAuthServer

@Suite("The store's snapshot on the wire")
struct SessionWireEncodingTests {
    @Test(arguments: [nil, "oUnion0000000000000000000001"], ["oOpenid00000000000000000000a", String(repeating: "q", count: 64)])
    func writeSessionWritesTheBytesOfSessionView(unionid: String?, openid: String) throws {
        let store = SessionStore(
            keyring: try ServerKeyring.ephemeral(),
            apps: AppRegistry([AppConfiguration(appID: TestServer.appID, secret: TestServer.secret)])
        )
        let issued = try store.create(
            appID: TestServer.appID, openid: openid, unionid: unionid, sessionKeyBase64: "AAAAAAAAAAAAAAAAAAAAAA=="
        )
        let snapshot = try store.validate(issued.token)
        var direct = ByteBuffer()
        direct.writeSession(snapshot)
        var viaView = ByteBuffer()
        SessionView(snapshot).encode(into: &viaView)
        #expect(direct == viaView)
        var frame = ByteBuffer(bytes: [0xAA])  // after other answers in the batch
        frame.moveReaderIndex(forwardBy: 1)
        frame.writeValidatedFrame(snapshot, requestID: 0xDEAD_BEEF)
        var expected = ByteBuffer()
        FrameEncoder.writeResponse(.validated(SessionView(snapshot)), requestID: 0xDEAD_BEEF, into: &expected)
        #expect(frame == expected)
        var decoded = direct
        let view = try SessionView.decode(from: &decoded)
        #expect(view.openid == openid)
        #expect(view.unionid == (unionid ?? ""))
        #expect(view.appID == TestServer.appID)
    }
}
