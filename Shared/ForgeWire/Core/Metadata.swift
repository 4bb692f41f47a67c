/// The metadata keys Forge gives meaning to (DESIGN §4); keys are lowercase.
public enum MetadataKey {
    /// `Bearer <token>`.
    public static let authorization = "authorization"
    /// Correlates one request across every service it touches; propagated and logged.
    public static let requestID = "x-request-id"
    /// Makes a mutating call safe to repeat.
    public static let idempotencyKey = "idempotency-key"
    /// W3C trace context.
    public static let traceparent = "traceparent"
    /// The language text for people is written in (`en`; absent: Chinese). Set on every call
    /// made while `TextLanguage.current` is not Chinese; see `TextLanguage`.
    public static let acceptLanguage = "accept-language"
}
