import AsyncHTTPClient
import Foundation
import NIOPosix
import Testing
@testable import WXAuthWeChat
@testable import WeChatSimulator

/// Pure pieces, no sockets: answer mapping, query encoding and decoding, fixtures.
struct AnswerMappingTests {
    private func interpret(_ json: String, status: UInt = 200) -> Jscode2SessionAnswer {
        Jscode2SessionAnswer.interpret(status: status, body: Array(json.utf8))
    }

    @Test func successWithOrWithoutErrcodeZero() throws {
        let plain = self.interpret(#"{"openid":"o1","session_key":"k=="}"#)
        #expect(try plain.result.get() == WeChatIdentity(openid: "o1", sessionKey: "k==", unionid: nil))
        let zero = self.interpret(#"{"errcode":0,"errmsg":"ok","openid":"o1","session_key":"k==","unionid":"u1"}"#)
        #expect(try zero.result.get() == WeChatIdentity(openid: "o1", sessionKey: "k==", unionid: "u1"))
    }

    @Test func errcodesMapToWhatCallersCanDo() {
        #expect(self.interpret(#"{"errcode":-1,"errmsg":"system error, rid: ab"}"#).result
            == .failure(.unavailable(errcode: -1, message: "system error, rid: ab")))
        #expect(self.interpret(#"{"errcode":45011,"errmsg":"quota"}"#).result
            == .failure(.rateLimited(errcode: 45011, errmsg: "quota", retryAfterMilliseconds: 60_000)))
        #expect(self.interpret(#"{"errcode":40029,"errmsg":"invalid code"}"#).result
            == .failure(.rejected(errcode: 40029, errmsg: "invalid code")))
        #expect(self.interpret(#"{"errcode":99999999999,"errmsg":"x"}"#).result
            == .failure(.unavailable(errcode: 0, message: "errcode out of range")))
    }

    @Test func unusableAnswersAreUnavailableWithErrcodeZero() {
        for answer in [
            self.interpret(#"{"openid":"o1","session_key":"k=="}"#, status: 502),
            self.interpret("<html>busy</html>"),
            self.interpret(#"{"errcode":0,"errmsg":"ok"}"#),
            self.interpret(#"{"openid":"o1"}"#),
            self.interpret(#"{"openid":"","session_key":"k=="}"#),
        ] {
            guard case .failure(.unavailable(0, _)) = answer.result else {
                Issue.record("expected unavailable(0), got \(answer.result)")
                continue
            }
        }
    }

    @Test func ridIsTakenFromErrmsg() {
        #expect(Jscode2SessionAnswer.requestID(inErrmsg: "invalid code, rid: 64b8e1f3-2c7a1b0e-5f3d2a9c")
            == "64b8e1f3-2c7a1b0e-5f3d2a9c")
        #expect(Jscode2SessionAnswer.requestID(inErrmsg: "invalid code") == nil)
    }

    @Test func queryValuesArePercentEncoded() {
        #expect(QueryEncoding.percentEncode("a+b/c=d&e é~._-") == "a%2Bb%2Fc%3Dd%26e%20%C3%A9~._-")
    }

    @Test func requestURLJoinsBaseURLWithoutDoubleSlash() async throws {
        let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        let client = WeChatAPIClient(baseURL: "http://127.0.0.1:1/", httpClient: http, logger: .init(label: "t"))
        #expect(client.requestURL(appID: "wx1", secret: "s&", code: "c+")
            == "http://127.0.0.1:1/sns/jscode2session?appid=wx1&secret=s%26&js_code=c%2B&grant_type=authorization_code")
        try await http.shutdown()
    }
}

struct SimulatorUnitTests {
    @Test func queryDecodingIsFormDecoding() {
        #expect(QueryString.parse("a=x%2By+z&b=&a=second&c") == ["a": "x+y z", "b": "", "c": ""])
        #expect(QueryString.parse("a=%C3%A9") == ["a": "é"])
        #expect(QueryString.parse("a=%Z1") == nil)
        #expect(QueryString.parse("a=%4") == nil)
        #expect(QueryString.parse("a=%FF") == nil)
    }

    @Test func loopbackCheck() {
        #expect(WeChatSimulator.isLoopback("127.0.0.1"))
        #expect(WeChatSimulator.isLoopback("127.1.2.3"))
        #expect(WeChatSimulator.isLoopback("::1"))
        #expect(WeChatSimulator.isLoopback("localhost"))
        #expect(!WeChatSimulator.isLoopback("0.0.0.0"))
        #expect(!WeChatSimulator.isLoopback("127.evil.example"))
        #expect(!WeChatSimulator.isLoopback("10.0.0.1"))
    }

    @Test func badFixturesAreRejected() {
        for fixture in [
            "not json",
            #"{"apps":[{"appid":"","secret":"s"}]}"#,
            #"{"apps":[{"appid":"a","secret":"s"},{"appid":"a","secret":"t"}]}"#,
            #"{"apps":[{"appid":"a","secret":"s","users":[{"user":"u","openid":"o","session_key":"k"},{"user":"u","openid":"p","session_key":"k"}]}]}"#,
        ] {
            #expect(throws: WeChatSimulatorError.self) {
                try WeChatSimulatorConfiguration(fixtureData: Data(fixture.utf8))
            }
        }
    }

    @Test func faultsQueueInOrderAndCodesAreCheckedInWeChatsOrder() throws {
        var state = SimulatorState(configuration: TestApps.configuration(codeLifetime: .seconds(60)))
        let now = ContinuousClock.now
        let code = try state.mintCode(appID: TestApps.dev, user: "alice", code: nil, now: now).code
        let valid = ["appid": TestApps.dev, "secret": TestApps.devSecret, "js_code": code, "grant_type": "authorization_code"]
        state.inject(.init(errcode: -1, errmsg: nil, hang: .zero, remaining: 1))
        state.inject(.init(errcode: nil, errmsg: nil, hang: .milliseconds(50), remaining: 1))
        #expect(state.exchange(parameters: valid, now: now).reply == .error(errcode: -1, errmsg: "system error"))
        let hung = state.exchange(parameters: valid, now: now)
        #expect(hung.delay == .milliseconds(50))
        guard case .identity = hung.reply else {
            Issue.record("expected an identity, got \(hung.reply)")
            return
        }
        #expect(state.exchange(parameters: valid, now: now).reply == .error(errcode: 40163, errmsg: "code been used"))
        var missingGrant = valid
        missingGrant["grant_type"] = nil
        #expect(state.exchange(parameters: missingGrant, now: now).reply == .error(errcode: 40002, errmsg: "invalid grant_type"))
        let late = try state.mintCode(appID: TestApps.dev, user: "alice", code: nil, now: now).code
        var expired = valid
        expired["js_code"] = late
        #expect(state.exchange(parameters: expired, now: now + .seconds(61)).reply
            == .error(errcode: 40029, errmsg: "invalid code"))
    }
}
