import Foundation
import Logging

/// Logs one line per call with the request id, method, status and duration.
///
/// Successful calls log at `debug` (a busy service would otherwise drown its log), client
/// errors at `info`, server faults (INTERNAL, UNKNOWN, DATA_LOSS) at `error`.
public struct LoggingInterceptor: CallObserver {
    public init() {}

    public func intercept(
        request: Data,
        context: ServerContext,
        next: @Sendable (ServerContext) async throws -> Data
    ) async throws -> Data {
        do {
            let response = try await next(context)
            // Building the fields costs more than the call itself on a fast path: only when logged.
            if context.logLevel <= .debug {
                context.logger.debug("rpc", metadata: Self.fields(.ok, since: context.receivedAt))
            }
            return response
        } catch {
            let mapped = RPCError(mapping: error, deadlineExpired: ContinuousClock.now >= context.deadline)
            var fields = Self.fields(mapped.code, since: context.receivedAt)
            fields["message"] = "\(mapped.message)"
            switch mapped.code {
            case .internal, .unknown, .dataLoss:
                fields["error"] = "\(String(reflecting: error))"
                context.logger.error("rpc", metadata: fields)
            default:
                context.logger.info("rpc", metadata: fields)
            }
            throw error
        }
    }

    private static func fields(_ code: StatusCode, since start: ContinuousClock.Instant) -> Logger.Metadata {
        let micros = Int64((ContinuousClock.now - start) / .microseconds(1))
        return ["status": "\(code.name)", "duration_us": "\(micros)"]
    }
}
