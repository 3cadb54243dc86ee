import ArgumentParser
import Foundation
import WXAuthClient
import WXAuthCrypto
import WXAuthProtocol

struct DecryptData: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decrypt-data",
        abstract: "Decrypt encryptedData (wx.getUserInfo, ...) with the session's session_key, inside wxauthd.")
    @OptionGroup var options: ConnectionOptions
    @Argument(help: "The session token.") var token: String
    @Option(help: "The iv, base64, as the mini program received it.") var iv: String
    @Option(help: "The encryptedData, base64, as the mini program received it.") var data: String

    func run() async throws {
        try await withClient(options) { client in
            let json = try await client.decrypt(token: token, encryptedData: data, iv: iv)
            if options.json { Output.emit([("ok", true), ("data", json)], json: true) } else { print(json) }
        }
    }
}

struct VerifySignature: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-signature", abstract: "Check signature == sha1(rawData + session_key), inside wxauthd.")
    @OptionGroup var options: ConnectionOptions
    @Argument(help: "The session token.") var token: String
    @Option(name: .customLong("raw-data"), help: "rawData exactly as received.") var rawData: String
    @Option(help: "The signature (40 lower-case hex digits).") var signature: String

    func run() async throws {
        try await withClient(options) { client in
            try await client.verifySignature(token: token, rawData: rawData, signature: signature)
            Output.emit([("ok", true), ("signature", "valid")], json: options.json)
        }
    }
}

struct PhoneNumberCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "phone-number", abstract: "Get the user's phone number for a getPhoneNumber button code.")
    @OptionGroup var options: ConnectionOptions
    @Argument(help: "The session token.") var token: String
    @Option(help: "The code from the getPhoneNumber button (single use).") var code: String

    func run() async throws {
        try await withClient(options) { client in
            let phone = try await client.phoneNumber(token: token, code: code)
            Output.emit([
                ("ok", true), ("phone_number", phone.phoneNumber), ("pure_phone_number", phone.purePhoneNumber),
                ("country_code", phone.countryCode),
            ], json: options.json)
        }
    }
}

struct CheckSessionKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-session-key", abstract: "Ask WeChat whether the session's stored session_key is still current.")
    @OptionGroup var options: ConnectionOptions
    @Argument(help: "The session token.") var token: String

    func run() async throws {
        try await withClient(options) { client in
            let current = try await client.checkSessionKey(token: token)
            Output.emit([("ok", true), ("current", current)], json: options.json)
        }
    }
}

struct ResetSessionKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset-session-key", abstract: "Have WeChat issue a new session_key and store it in the session.")
    @OptionGroup var options: ConnectionOptions
    @Argument(help: "The session token.") var token: String

    func run() async throws {
        try await withClient(options) { client in
            try await client.resetSessionKey(token: token)
            Output.emit([("ok", true), ("reset", true)], json: options.json)
        }
    }
}

/// Offline decryption of a real payload, for debugging. No server involved.
struct DecryptOffline: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decrypt",
        abstract: "Offline: decrypt encryptedData with a session_key you have (debugging real payloads).",
        discussion: "Give --session-key - to read the key from stdin (keeps it out of the process list and shell history).")
    @Option(name: .customLong("session-key"), help: "The session_key, base64 as WeChat sent it, or - for stdin.")
    var sessionKey: String
    @Option(help: "The iv, base64.") var iv: String
    @Option(help: "The encryptedData, base64.") var data: String
    @Option(name: .customLong("app"), help: "Check that watermark.appid is this app.") var appID: String?
    @Option(name: .customLong("max-age"), help: "Refuse watermarks older than this many seconds.") var maxAge: Int64?
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        var key = sessionKey
        if key == "-" { key = (readLine(strippingNewline: true) ?? "").trimmingCharacters(in: .whitespaces) }
        do {
            let decrypted = try WeChatUserData.decrypt(
                encryptedData: data, iv: iv, sessionKeyBase64: key, expectedAppID: appID,
                maxAgeMilliseconds: maxAge.map { $0 * 1000 }, nowMilliseconds: Int64(Date().timeIntervalSince1970 * 1000))
            if json {
                Output.emit([("ok", true), ("data", decrypted.json), ("watermark_appid", decrypted.watermarkAppID),
                             ("watermark_timestamp", decrypted.watermarkTimestamp)], json: true)
            } else {
                print(decrypted.json)
            }
        } catch {
            if json {
                Output.emit([("ok", false), ("status", "DECRYPT_FAILED"), ("reason", error.reason.name),
                             ("message", error.message)], json: true)
            } else {
                FileHandle.standardError.write(Data("wxauth: \(error.reason.name): \(error.message)\n".utf8))
            }
            throw ExitCode(Output.exitCode(for: .decryptFailed))
        }
    }
}
