// swift-tools-version: 6.2
import PackageDescription

// Load generator for the wire runtime, measured against two references in the same run:
// grpc-swift-2 (HTTP/2) and a bare SwiftNIO echo of length-prefixed frames. Its own package so
// the main build and CI stay lean. Run with Benchmarks/run.sh (release build).
let package = Package(
    name: "ForgeBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Forge", path: ".."),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/ordo-one/malloc-interposer.git", from: "1.6.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        .target(
            name: "BenchCore",
            dependencies: [
                .product(name: "ForgeKit", package: "Forge"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ForgeWire", package: "Forge"),
                .product(name: "ForgeContracts", package: "Forge"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .executableTarget(
            name: "ForgeBench",
            dependencies: [
                "BenchCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "ForgeAllocBench",
            dependencies: [
                "BenchCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MallocInterposerSwift", package: "malloc-interposer"),
            ]
        ),
        .executableTarget(
            name: "AccountsBench",
            dependencies: [
                "BenchCore",
                .product(name: "ForgeKit", package: "Forge"),
                .product(name: "ForgeWire", package: "Forge"),
                .product(name: "ForgeContracts", package: "Forge"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .executableTarget(
            name: "GatewayBench",
            dependencies: [
                "BenchCore",
                .product(name: "ForgeKit", package: "Forge"),
                .product(name: "ForgeWire", package: "Forge"),
                .product(name: "ForgeContracts", package: "Forge"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "PipelineBench",
            dependencies: [
                "BenchCore",
                .product(name: "ForgeKit", package: "Forge"),
                .product(name: "ForgeWire", package: "Forge"),
                .product(name: "ForgeContracts", package: "Forge"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .executableTarget(
            name: "OrdersBench",
            dependencies: [
                "BenchCore",
                .product(name: "ForgeKit", package: "Forge"),
                .product(name: "ForgeWire", package: "Forge"),
                .product(name: "ForgeContracts", package: "Forge"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .executableTarget(
            name: "ServiceDeskBench",
            dependencies: [
                "BenchCore",
                .product(name: "ForgeKit", package: "Forge"),
                .product(name: "ForgeWire", package: "Forge"),
                .product(name: "ForgeContracts", package: "Forge"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .executableTarget(
            name: "FeedbackBench",
            dependencies: [
                "BenchCore",
                .product(name: "ForgeKit", package: "Forge"),
                .product(name: "ForgeWire", package: "Forge"),
                .product(name: "ForgeContracts", package: "Forge"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "AnalyticsBench",
            dependencies: [
                "BenchCore",
                .product(name: "ForgeKit", package: "Forge"),
                .product(name: "ForgeWire", package: "Forge"),
                .product(name: "ForgeContracts", package: "Forge"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .executableTarget(
            name: "LoyaltyBench",
            dependencies: [
                "BenchCore",
                .product(name: "ForgeKit", package: "Forge"),
                .product(name: "ForgeWire", package: "Forge"),
                .product(name: "ForgeContracts", package: "Forge"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .executableTarget(
            name: "ConnectorBench",
            dependencies: [
                "BenchCore",
                .product(name: "ForgeKit", package: "Forge"),
                .product(name: "ForgeWire", package: "Forge"),
                .product(name: "ForgeContracts", package: "Forge"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "KitBench",
            dependencies: [
                "BenchCore",
                .product(name: "ForgeKit", package: "Forge"),
                .product(name: "ForgeWire", package: "Forge"),
                .product(name: "ForgeContracts", package: "Forge"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
