import Foundation
import Logging
import Synchronization

/// Writes one JSON object per line (`FORGE_LOG_FORMAT=json`): time, level, logger, message and
/// every metadata field (request_id, method, status …) as top-level keys.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private static let output = Mutex(())

    public init(label: String) {
        self.label = label
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: String] = [:]
        for (key, value) in metadata { fields[key] = "\(value)" }
        for (key, value) in event.metadata ?? [:] { fields[key] = "\(value)" }
        fields["time"] = RFC3339.string(from: Date(), milliseconds: true)
        fields["level"] = event.level.rawValue
        fields["logger"] = label
        fields["message"] = "\(event.message)"
        var line = SortedJSON.data(fields)
        line.append(0x0A)
        Self.output.withLock { _ in
            FileHandle.standardError.write(line)
        }
    }
}

/// Bootstraps swift-log once per process: readable text on a terminal, JSON lines when asked.
public enum LogSetup {
    public static func bootstrap(format: ServiceConfiguration.LogFormat, level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler
            switch format {
            case .text: handler = StreamLogHandler.standardError(label: label)
            case .json: handler = JSONLogHandler(label: label)
            }
            handler.logLevel = level
            return handler
        }
    }
}
