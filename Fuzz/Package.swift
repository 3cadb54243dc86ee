// swift-tools-version:6.0
// libFuzzer targets for wxauth's decoders. Built apart from the main package because every target here is compiled
// with -sanitize=fuzzer (libFuzzer supplies main). Run them with ../scripts/fuzz.sh.
import Foundation
import PackageDescription

// A path dependency's identity is its directory name, whatever the clone is called.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "wxauth-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .target(name: "FuzzDriver"),
        .executableTarget(name: "FuzzFrameDecoder", dependencies: [
            "FuzzDriver",
            .product(name: "WXAuthProtocol", package: root),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .executableTarget(name: "FuzzMessageDecoders", dependencies: [
            "FuzzDriver",
            .product(name: "WXAuthProtocol", package: root),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .executableTarget(name: "FuzzRESP3Decoder", dependencies: [
            "FuzzDriver",
            .product(name: "WXAuthRedis", package: root),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .executableTarget(name: "FuzzTokenParser", dependencies: [
            "FuzzDriver",
            .product(name: "WXAuthSessions", package: root),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
