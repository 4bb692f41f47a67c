/// A wire status code: gRPC's canonical numbering (DESIGN §4).
public typealias StatusCode = Forge_Wire_V1_Code

/// One invalid field of a request and what is wrong with it.
public struct FieldViolation: Sendable, Hashable, CustomStringConvertible {
    public var field: String
    public var description: String

    public init(field: String, description: String) {
        self.field = field
        self.description = description
    }
}

/// The error a call fails with: a status code, a message and, for INVALID_ARGUMENT, one
/// violation per bad field. Handlers throw it; clients receive it.
public struct RPCError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: StatusCode
    public var message: String
    public var violations: [FieldViolation]

    public init(_ code: StatusCode, _ message: String, violations: [FieldViolation] = []) {
        self.code = code
        self.message = message
        self.violations = violations
    }

    /// INVALID_ARGUMENT naming each bad field.
    public static func invalidArgument(_ violations: [FieldViolation]) -> RPCError {
        let fields = violations.map(\.field).joined(separator: ", ")
        return RPCError(.invalidArgument, "invalid \(fields)", violations: violations)
    }

    public var description: String {
        var text = "\(code.name): \(message)"
        for violation in violations {
            text += "\n  \(violation.field): \(violation.description)"
        }
        return text
    }
}

/// A domain error that knows its wire status; the one place domain errors become codes.
public protocol RPCErrorConvertible: Error {
    var rpcError: RPCError { get }
}

extension RPCError {
    /// The wire form of this error.
    var status: Forge_Wire_V1_Status {
        var status = Forge_Wire_V1_Status()
        status.code = code
        status.message = message
        status.violations = violations.map { violation in
            var wire = Forge_Wire_V1_FieldViolation()
            wire.field = violation.field
            wire.description_p = violation.description
            return wire
        }
        return status
    }

    init(status: Forge_Wire_V1_Status) {
        self.init(
            status.code,
            status.message,
            violations: status.violations.map { FieldViolation(field: $0.field, description: $0.description_p) }
        )
    }

    /// Maps any error a handler throws to the status the caller sees. Errors that are not
    /// `RPCError` or `RPCErrorConvertible` are INTERNAL, and their text is not leaked.
    init(mapping error: any Error, deadlineExpired: Bool) {
        switch error {
        case let error as RPCError:
            self = error
        case let error as any RPCErrorConvertible:
            self = error.rpcError
        case is CancellationError:
            self = deadlineExpired
                ? RPCError(.deadlineExceeded, "deadline exceeded")
                : RPCError(.cancelled, "call cancelled")
        default:
            self = RPCError(.internal, "internal error")
        }
    }
}

extension StatusCode {
    /// The canonical upper-case name, e.g. `INVALID_ARGUMENT`.
    public var name: String {
        switch self {
        case .ok: "OK"
        case .cancelled: "CANCELLED"
        case .unknown: "UNKNOWN"
        case .invalidArgument: "INVALID_ARGUMENT"
        case .deadlineExceeded: "DEADLINE_EXCEEDED"
        case .notFound: "NOT_FOUND"
        case .alreadyExists: "ALREADY_EXISTS"
        case .permissionDenied: "PERMISSION_DENIED"
        case .resourceExhausted: "RESOURCE_EXHAUSTED"
        case .failedPrecondition: "FAILED_PRECONDITION"
        case .aborted: "ABORTED"
        case .outOfRange: "OUT_OF_RANGE"
        case .unimplemented: "UNIMPLEMENTED"
        case .internal: "INTERNAL"
        case .unavailable: "UNAVAILABLE"
        case .dataLoss: "DATA_LOSS"
        case .unauthenticated: "UNAUTHENTICATED"
        case .UNRECOGNIZED(let raw): "CODE_\(raw)"
        }
    }
}
