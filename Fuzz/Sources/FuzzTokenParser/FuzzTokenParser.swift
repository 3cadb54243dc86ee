import WXAuthSessions

private let keyring = try! ServerKeyring(keys: [.init(id: 1, secret: Array(repeating: 7, count: 32))], primary: 1)

/// Any string as a token: parsing must never crash, and nothing but a token the keyring made may pass.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let token = SessionToken.parse(text, keyring: keyring) {
        // Only possible if the fuzzer forged an HMAC tag: treat as a finding.
        precondition((try? token.encoded(keyring: keyring)) == text, "parsed a token that does not re-encode")
        fatalError("fuzzer produced a token that authenticates: \(text.count) chars")
    }
    return 0
}
