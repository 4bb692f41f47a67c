import Foundation

/// A real SMTP server (Tests/Support/smtp_sink.py, aiosmtpd) as a process: each message it
/// receives lands as a file in `directory`.
public struct SMTPSink: Sendable {
    public let process: Process
    public let directory: String

    /// Starts the server on `port` and waits (bounded) until it listens.
    public init(port: Int, arguments: [String] = []) async throws {
        directory = NSTemporaryDirectory() + "forge-smtp-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("smtp_sink.py").path
        process.arguments = ["python3", script, "\(port)", directory] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let directory = self.directory
        guard await Self.waitFor(seconds: 20, { FileManager.default.fileExists(atPath: "\(directory)/ready") }) else {
            kill(process.processIdentifier, SIGKILL)
            throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "the SMTP sink did not start on port \(port) (is python3-aiosmtpd installed?)"])
        }
    }

    /// Every message received so far, raw, in the order received.
    public var messages: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".eml") }.sorted()
            .compactMap { try? String(contentsOfFile: "\(directory)/\($0)", encoding: .utf8) }
    }

    /// Every message received so far, decoded.
    public var mails: [Mail] { messages.map(Self.decode) }

    public func stop() { kill(process.processIdentifier, SIGKILL) }

    /// Polls `condition` (bounded) until it holds; returns whether it did.
    public static func waitFor(seconds: Double = 20, _ condition: () -> Bool) async -> Bool {
        await Poll.until(seconds: seconds) { condition() }
    }

    public struct Mail: Sendable {
        public let subject: String
        public let body: String
        public let to: String
    }

    /// A received message's subject and body, decoded (RFC 2047 subject, base64 body).
    public static func decode(_ raw: String) -> Mail {
        let parts = raw.components(separatedBy: "\r\n\r\n")
        let headers = parts[0].components(separatedBy: "\r\n")
        func header(_ name: String) -> String {
            headers.first { $0.lowercased().hasPrefix(name.lowercased() + ":") }.map { String($0.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces) } ?? ""
        }
        var subject = header("Subject")
        if subject.hasPrefix("=?UTF-8?B?"), subject.hasSuffix("?=") {
            subject = String(decoding: Data(base64Encoded: String(subject.dropFirst(10).dropLast(2))) ?? Data(), as: UTF8.self)
        }
        let body = String(decoding: Data(base64Encoded: parts.dropFirst().joined().replacingOccurrences(of: "\r\n", with: "")) ?? Data(), as: UTF8.self)
        return Mail(subject: subject, body: body, to: header("To"))
    }
}
