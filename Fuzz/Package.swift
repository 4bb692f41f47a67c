// swift-tools-version: 6.2
import PackageDescription

// libFuzzer target over the frame decoder and the server's connection handler (dispatcher).
// Its own package so the main build and CI stay lean; run it with Fuzz/run.sh.
let package = Package(
    name: "ForgeFuzz",
    dependencies: [
        .package(name: "Forge", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        .executableTarget(
            name: "FrameFuzzer",
            dependencies: [
                .product(name: "ForgeWire", package: "Forge"),
                .product(name: "ForgeContracts", package: "Forge"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
    ],
    swiftLanguageModes: [.v6]
)
