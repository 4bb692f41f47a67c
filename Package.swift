// swift-tools-version: 6.2
import PackageDescription

/// Upcoming features as grpc-swift-2 enables them (STYLE.md).
let upcomingFeatures: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Forge",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "forge", targets: ["ForgeCLI"]),
        .executable(name: "protoc-gen-forge", targets: ["ProtocGenForge"]),
        .library(name: "ForgeWire", targets: ["ForgeWire"]),
        .library(name: "ForgeContracts", targets: ["ForgeContracts"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        // The wire runtime: framing, the call envelope, server, client pool, interceptors.
        .target(
            name: "ForgeWire",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/ForgeWire",
            swiftSettings: upcomingFeatures
        ),
        // Messages, handler protocols and typed clients generated from Proto/.
        .target(
            name: "ForgeContracts",
            dependencies: [
                "ForgeWire",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Shared/ForgeContracts",
            swiftSettings: upcomingFeatures
        ),
        // protoc plugin generating handler protocols, routers, clients and the method registry.
        .executableTarget(
            name: "ProtocGenForge",
            dependencies: [
                .product(name: "SwiftProtobufPluginLibrary", package: "swift-protobuf"),
            ],
            path: "Scripts/ProtocGenForge",
            swiftSettings: upcomingFeatures
        ),
        // The `forge` command-line tool.
        .executableTarget(
            name: "ForgeCLI",
            dependencies: [
                "ForgeWire",
                "ForgeContracts",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Services/ForgeCLI",
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "ForgeWireTests",
            dependencies: [
                "ForgeWire",
                "ForgeContracts",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/ForgeWireTests",
            exclude: ["Fixtures"],
            swiftSettings: upcomingFeatures
        ),
    ],
    swiftLanguageModes: [.v6]
)
