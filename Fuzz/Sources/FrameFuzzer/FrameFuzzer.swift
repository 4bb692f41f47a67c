import ForgeContracts
@testable import ForgeWire
import Foundation
import Logging
import NIOCore
import NIOEmbedded
import SwiftProtobuf

/// Every request type a server may be asked to decode.
private let requestTypes = ForgeMethodRegistry.methods.map(\.requestType)

/// One fuzz input: fed to a server connection (frame decoder, frame validation, the call
/// envelope checks, Ping/Cancel handling) and, when it holds a Call, its payload is decoded as
/// every request type the way the dispatcher would.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)

    var configuration = ServerConfiguration(port: 0)
    configuration.maxFrameBytes = 64 * 1024
    var router = RPCRouter()
    router.register(MethodDescriptor(service: "forge.fuzz.v1.Fuzz", method: "Never"), request: Forge_Testing_V1_EchoRequest.self) { request, _ in
        Forge_Testing_V1_EchoResponse.with { $0.text = request.text }
    }
    let dispatcher = CallDispatcher(router: RouterWithoutRoutes.router, interceptors: [])
    let channel = EmbeddedChannel()
    do {
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maxFrameBytes: configuration.maxFrameBytes)))
        try channel.pipeline.syncOperations.addHandler(
            ServerConnectionHandler(configuration: configuration, dispatcher: dispatcher, executor: nil, logger: Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() }))
        )
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
    } catch {
        fatalError("pipeline setup failed: \(error)")
    }
    // Split the input in two writes so partial frames across reads are exercised too.
    let split = size / 2
    _ = try? channel.writeInbound(ByteBuffer(bytes: bytes[0..<split]))
    _ = try? channel.writeInbound(ByteBuffer(bytes: bytes[split...]))
    channel.embeddedEventLoop.run()
    while (try? channel.readOutbound(as: ByteBuffer.self)) != nil {}
    _ = try? channel.finish()
    _ = router

    if let frame = try? Forge_Wire_V1_Frame(serializedBytes: Array(bytes)), case .call(let call) = frame.kind {
        for type in requestTypes {
            _ = try? type.init(serializedBytes: call.payload)
        }
    }
    return 0
}

/// An empty router: handler tasks would run off the embedded loop, so the fuzzer exercises
/// everything up to dispatch and the payload decoding separately.
enum RouterWithoutRoutes {
    static let router = RPCRouter()
}

@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

/// SwiftPM links an executable target's entry point under `<Module>_main`; hand control to
/// libFuzzer's driver from there.
@_cdecl("FrameFuzzer_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzz)
}
