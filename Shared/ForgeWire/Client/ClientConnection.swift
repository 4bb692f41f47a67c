import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// One pooled connection to an upstream, reconnecting with exponential backoff and jitter.
///
/// States: idle → connecting → ready; a failed connect → backoff (calls fail fast UNAVAILABLE)
/// → connecting again; a dropped connection reconnects at once; a GoAway leaves the old channel
/// to drain and connects anew on the next call.
///
/// Every mutable property is touched only on `eventLoop`, which is what makes the unchecked
/// `Sendable` sound.
final class ClientConnection: @unchecked Sendable {
    private enum State {
        case idle
        case connecting(waiting: [ClientCall])
        case ready(any Channel, ClientConnectionHandler)
        case backoff
        case shutdown
    }

    let eventLoop: any EventLoop
    private let host: String
    private let port: Int
    private let configuration: ClientConfiguration
    private let sslContext: NIOSSLContext?
    private var state = State.idle
    private var failedAttempts = 0
    private var reconnectTimer: Scheduled<Void>?
    private var activeCalls: [ObjectIdentifier: ClientCall] = [:]
    private lazy var deadlines = DeadlineTracker<ObjectIdentifier>(eventLoop: eventLoop) { [unowned self] id in
        self.activeCalls[id]?.expire()
    }

    init(host: String, port: Int, configuration: ClientConfiguration, sslContext: NIOSSLContext?, eventLoop: any EventLoop) {
        self.host = host
        self.port = port
        self.configuration = configuration
        self.sslContext = sslContext
        self.eventLoop = eventLoop
    }

    /// Runs one attempt of a call on this connection.
    func call(method: String, metadata: [String: String], deadline: NIODeadline, payload: Data) async throws -> Data {
        let call = ClientCall(method: method, metadata: metadata, deadline: deadline, payload: payload)
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { continuation in
                if eventLoop.inEventLoop {
                    // The caller runs on this connection's loop (a handler, or a task preferring
                    // the client's executor): no hop.
                    call.wait(with: continuation)
                    begin(call, deadline: deadline)
                } else {
                    eventLoop.execute {
                        call.wait(with: continuation)
                        self.begin(call, deadline: deadline)
                    }
                }
            }
        } onCancel: {
            eventLoop.execute { call.cancel() }
        }
    }

    private func begin(_ call: ClientCall, deadline: NIODeadline) {
        guard !call.finished else { return }  // cancelled before it reached the loop
        let id = ObjectIdentifier(call)
        activeCalls[id] = call
        deadlines.add(id, deadline: deadline)
        call.connection = self
        start(call)
    }

    /// A call finished (answered, failed, expired or cancelled): stop tracking it.
    func finished(_ call: ClientCall) {
        let id = ObjectIdentifier(call)
        activeCalls.removeValue(forKey: id)
        deadlines.remove(id)
    }

    /// Closes the connection for good; calls in flight fail UNAVAILABLE.
    func shutdown() async {
        let closed: EventLoopFuture<Void> = eventLoop.flatSubmit {
            self.reconnectTimer?.cancel()
            let previous = self.state
            self.state = .shutdown
            switch previous {
            case .ready(let channel, _):
                return channel.close().recover { _ in }
            case .connecting(let waiting):
                for call in waiting {
                    call.fail(RPCError(.unavailable, "client shut down"), outcome: .notSent)
                }
                return self.eventLoop.makeSucceededVoidFuture()
            default:
                return self.eventLoop.makeSucceededVoidFuture()
            }
        }
        try? await closed.get()
    }

    private func start(_ call: ClientCall) {
        guard !call.finished else { return }
        switch state {
        case .ready(_, let handler):
            handler.start(call)
        case .connecting(var waiting):
            waiting.append(call)
            state = .connecting(waiting: waiting)
        case .idle:
            state = .connecting(waiting: [call])
            connect()
        case .backoff:
            call.fail(RPCError(.unavailable, "upstream \(host):\(port) unavailable"), outcome: .notSent)
        case .shutdown:
            call.fail(RPCError(.unavailable, "client shut down"), outcome: .notSent)
        }
    }

    private func connect() {
        let handler = ClientConnectionHandler(maxInFlight: configuration.maxConcurrentCallsPerConnection)
        let boundHandler = NIOLoopBound(handler, eventLoop: eventLoop)
        let maxFrameBytes = configuration.maxFrameBytes
        let sslContext = self.sslContext
        let serverHostname = configuration.tlsServerHostname ?? (host.first?.isNumber == true ? nil : host)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let sslContext {
                        try sync.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: serverHostname))
                    }
                    try sync.addHandler(ByteToMessageHandler(FrameDecoder(maxFrameBytes: maxFrameBytes)))
                    try sync.addHandler(boundHandler.value)
                }
            }
        bootstrap.connect(host: host, port: port).assumeIsolated().whenComplete { result in
            self.connected(result, handler: handler)
        }
    }

    private func connected(_ result: Result<any Channel, any Error>, handler: ClientConnectionHandler) {
        guard case .connecting(let waiting) = state else {
            // Shut down meanwhile.
            if case .success(let channel) = result { channel.close(promise: nil) }
            return
        }
        switch result {
        case .success(let channel):
            failedAttempts = 0
            state = .ready(channel, handler)
            handler.onGoAway = { [weak handler] in
                guard let handler else { return }
                self.retire(handler, reconnect: false)
            }
            handler.onClose = { [weak handler] in
                guard let handler else { return }
                self.retire(handler, reconnect: true)
            }
            for call in waiting where !call.finished {
                handler.start(call)
            }
        case .failure(let error):
            for call in waiting {
                call.fail(RPCError(.unavailable, "cannot connect to \(host):\(port): \(error)"), outcome: .notSent)
            }
            enterBackoff()
        }
    }

    /// The channel of `handler` takes no more calls (GoAway) or is gone (closed).
    private func retire(_ handler: ClientConnectionHandler, reconnect: Bool) {
        guard case .ready(_, let current) = state, current === handler else { return }
        state = .idle
        if reconnect {
            state = .connecting(waiting: [])
            connect()
        }
    }

    private func enterBackoff() {
        state = .backoff
        let delay = configuration.backoff.delay(attempt: failedAttempts)
        failedAttempts += 1
        reconnectTimer = eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(delay)) {
            guard case .backoff = self.state else { return }
            self.state = .connecting(waiting: [])
            self.connect()
        }
    }
}
