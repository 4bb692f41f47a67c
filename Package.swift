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
        .library(name: "ForgeKit", targets: ["ForgeKit"]),
        .executable(name: "forge-accounts", targets: ["ForgeAccounts"]),
        .executable(name: "forge-pipeline", targets: ["ForgePipeline"]),
        .executable(name: "forge-orders", targets: ["ForgeOrders"]),
        .executable(name: "forge-servicedesk", targets: ["ForgeServiceDesk"]),
        .executable(name: "forge-feedback", targets: ["ForgeFeedback"]),
        .executable(name: "forge-loyalty", targets: ["ForgeLoyalty"]),
        .executable(name: "forge-analytics", targets: ["ForgeAnalytics"]),
        .executable(name: "forge-gateway", targets: ["ForgeGateway"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
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
        // Spreadsheets as people send them (CSV in UTF-8 or GB18030, .xlsx), for `forge import`;
        // a target of its own so the services do not link the ZIP and XML readers.
        .target(
            name: "ForgeSpreadsheet",
            dependencies: [.product(name: "ZIPFoundation", package: "ZIPFoundation")],
            path: "Shared/ForgeSpreadsheet",
            swiftSettings: upcomingFeatures
        ),
        // The service kit: config, logging, metrics and admin HTTP, storage, events, jobs,
        // idempotency, audit, security, health and lifecycle — written once for every service.
        .target(
            name: "ForgeKit",
            dependencies: [
                "ForgeWire",
                "ForgeContracts",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Shared/ForgeKit",
            swiftSettings: upcomingFeatures
        ),
        .executableTarget(
            name: "ForgeAccounts",
            dependencies: ["ForgeKit", "ForgeWire", "ForgeContracts", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            path: "Services/Accounts",
            swiftSettings: upcomingFeatures
        ),
        .executableTarget(
            name: "ForgePipeline",
            dependencies: ["ForgeKit", "ForgeWire", "ForgeContracts", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                           .product(name: "Crypto", package: "swift-crypto")],
            path: "Services/Pipeline",
            swiftSettings: upcomingFeatures
        ),
        .executableTarget(
            name: "ForgeOrders",
            dependencies: ["ForgeKit", "ForgeWire", "ForgeContracts", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            path: "Services/Orders",
            swiftSettings: upcomingFeatures
        ),
        .executableTarget(
            name: "ForgeServiceDesk",
            dependencies: ["ForgeKit", "ForgeWire", "ForgeContracts", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            path: "Services/ServiceDesk",
            swiftSettings: upcomingFeatures
        ),
        .executableTarget(
            name: "ForgeFeedback",
            dependencies: ["ForgeKit", "ForgeWire", "ForgeContracts", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                           .product(name: "Crypto", package: "swift-crypto")],
            path: "Services/Feedback",
            swiftSettings: upcomingFeatures
        ),
        .executableTarget(
            name: "ForgeLoyalty",
            dependencies: ["ForgeKit", "ForgeWire", "ForgeContracts", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            path: "Services/Loyalty",
            swiftSettings: upcomingFeatures
        ),
        .executableTarget(
            name: "ForgeAnalytics",
            dependencies: ["ForgeKit", "ForgeWire", "ForgeContracts", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            path: "Services/Analytics",
            swiftSettings: upcomingFeatures
        ),
        .executableTarget(
            name: "ForgeGateway",
            dependencies: [
                "ForgeKit", "ForgeWire", "ForgeContracts",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Services/Gateway",
            swiftSettings: upcomingFeatures
        ),
        // The `forge` command-line tool.
        .executableTarget(
            name: "ForgeCLI",
            dependencies: [
                "ForgeSpreadsheet",
                "ForgeWire",
                "ForgeContracts",
                "ForgeKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
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
        .testTarget(
            name: "ForgeKitTests",
            dependencies: [
                "ForgeKit",
                "ForgeSpreadsheet",
                "ForgeWire",
                "ForgeContracts",
                "ForgeTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            path: "Tests/ForgeKitTests",
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "AccountsTests",
            dependencies: [
                "ForgeAccounts",
                "ForgeSpreadsheet",
                "ForgeKit",
                "ForgeWire",
                "ForgeContracts",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/AccountsTests",
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "PipelineTests",
            dependencies: [
                "ForgePipeline",
                "ForgeTestSupport",
                "ForgeKit",
                "ForgeWire",
                "ForgeContracts",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/PipelineTests",
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "OrdersTests",
            dependencies: [
                "ForgeOrders",
                "ForgeTestSupport",
                "ForgeKit",
                "ForgeWire",
                "ForgeContracts",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/OrdersTests",
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "ServiceDeskTests",
            dependencies: [
                "ForgeServiceDesk", "ForgeKit", "ForgeWire", "ForgeContracts",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/ServiceDeskTests",
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "FeedbackTests",
            dependencies: [
                "ForgeFeedback", "ForgeTestSupport", "ForgeKit", "ForgeWire", "ForgeContracts",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/FeedbackTests",
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "LoyaltyTests",
            dependencies: [
                "ForgeLoyalty", "ForgeKit", "ForgeWire", "ForgeContracts",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/LoyaltyTests",
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "AnalyticsTests",
            dependencies: [
                "ForgeAnalytics", "ForgeKit", "ForgeWire", "ForgeContracts", "ForgeTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/AnalyticsTests",
            swiftSettings: upcomingFeatures
        ),
        // The C connector library (Connectors/c) against the real executables.
        .testTarget(
            name: "ConnectorTests",
            dependencies: [
                "ForgeTestSupport", "ForgeKit", "ForgeWire", "ForgeContracts",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: upcomingFeatures
        ),
        // Starting the real executables from tests.
        .target(
            name: "ForgeTestSupport",
            dependencies: [
                "ForgeKit", "ForgeWire", "ForgeContracts",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Tests/Support",
            exclude: ["smtp_sink.py"],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "JourneyTests",
            dependencies: [
                "ForgeTestSupport", "ForgeKit", "ForgeWire", "ForgeContracts",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Tests/JourneyTests",
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "ForgeGateway",
                "ForgeTestSupport",
                "ForgeKit",
                "ForgeWire",
                "ForgeContracts",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Tests/GatewayTests",
            swiftSettings: upcomingFeatures
        ),
    ],
    swiftLanguageModes: [.v6]
)
