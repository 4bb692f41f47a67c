import Logging

/// Everything a handler knows about the call besides its request.
///
/// Cancellation (a Cancel frame, an expired deadline, a closed connection) reaches the handler
/// as cancellation of its Swift task.
public struct ServerContext: Sendable {
    /// The RPC being served.
    public let method: MethodDescriptor
    /// The call's metadata, keys lowercase.
    public var metadata: [String: String]
    /// The authenticated caller; nil for methods that need no token.
    public var principal: Principal?
    /// When the call must have answered.
    public let deadline: ContinuousClock.Instant
    /// When the server received the call (logs and metrics time the call from here: one clock
    /// reading instead of one per interceptor).
    public let receivedAt: ContinuousClock.Instant
    /// The `x-request-id` of the call (generated when the caller sent none).
    public var requestID: String {
        get { sentRequestID ?? RequestID.format(generatedRequestID) }
        set { sentRequestID = newValue }
    }

    // Most calls never read their id: format it only when asked (stable, from one number).
    private var sentRequestID: String?
    private var generatedRequestID: UInt64 = 0
    /// A logger carrying the request id and method (added on first use: most calls never log).
    public var logger: Logger {
        get {
            guard !loggerHasCallMetadata else { return baseLogger }
            var logger = baseLogger
            logger[metadataKey: "request_id"] = "\(requestID)"
            logger[metadataKey: "method"] = "\(method.path)"
            return logger
        }
        set {
            baseLogger = newValue
            loggerHasCallMetadata = true
        }
    }

    /// The level the call's logger logs at, without building the logger (its request id and
    /// method metadata cost more than a fast call when made just to ask this).
    public var logLevel: Logger.Level {
        baseLogger.logLevel
    }

    private var baseLogger: Logger
    private var loggerHasCallMetadata = false
    /// The remote address, for logs.
    public let peer: String
    /// The call is passed on to the service that owns its method (RPCRouter.forwarding): that
    /// service checks its roles and keeps its idempotency keys.
    public var forwarded = false

    public init(
        method: MethodDescriptor,
        metadata: [String: String],
        principal: Principal? = nil,
        deadline: ContinuousClock.Instant,
        receivedAt: ContinuousClock.Instant = .now,
        requestID: String?,
        logger: Logger,
        peer: String
    ) {
        if requestID == nil {
            generatedRequestID = RequestID.next()
        }
        self.method = method
        self.metadata = metadata
        self.principal = principal
        self.deadline = deadline
        self.receivedAt = receivedAt
        self.sentRequestID = requestID
        self.baseLogger = logger
        self.peer = peer
    }

    /// The context of a call received now, to be answered within `timeout`: its request id
    /// from its metadata (one is generated when absent).
    init(received method: MethodDescriptor, metadata: [String: String], timeout: Duration, logger: Logger, peer: String) {
        let receivedAt = ContinuousClock.now
        self.init(method: method, metadata: metadata, deadline: receivedAt + timeout, receivedAt: receivedAt,
                  requestID: metadata[MetadataKey.requestID], logger: logger, peer: peer)
    }

    /// The budget left before the deadline (never negative).
    public var remainingTime: Duration {
        max(.zero, deadline - .now)
    }

    /// The caller's idempotency key, when it sent one.
    public var idempotencyKey: String? {
        metadata[MetadataKey.idempotencyKey]
    }
}

extension CallOptions {
    /// Options for a downstream call made while serving `context`: the remaining deadline, the
    /// request id, the caller's token and trace context travel on.
    public init(propagating context: ServerContext, metadata extra: [String: String] = [:]) {
        var metadata = extra
        metadata[MetadataKey.requestID] = context.requestID
        for key in [MetadataKey.authorization, MetadataKey.traceparent] {
            if let value = context.metadata[key], metadata[key] == nil {
                metadata[key] = value
            }
        }
        self.init(timeout: context.remainingTime, metadata: metadata)
    }
}
