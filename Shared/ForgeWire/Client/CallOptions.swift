/// Per-call settings of a client call.
public struct CallOptions: Sendable {
    /// Bounds the call; nil uses the client's default timeout.
    public var timeout: Duration?
    /// Extra metadata; keys are lowercased on the wire.
    public var metadata: [String: String]

    public init(timeout: Duration? = nil, metadata: [String: String] = [:], idempotencyKey: String? = nil) {
        self.timeout = timeout
        self.metadata = metadata
        if let idempotencyKey {
            self.metadata[MetadataKey.idempotencyKey] = idempotencyKey
        }
    }

    /// Makes the call safe to repeat: the server answers a repeat with the stored response, and
    /// the client may retry it after a connection failure.
    public var idempotencyKey: String? {
        get { metadata[MetadataKey.idempotencyKey] }
        set { metadata[MetadataKey.idempotencyKey] = newValue }
    }
}
