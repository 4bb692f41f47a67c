import Foundation
import NIOCore
import NIOPosix

/// A plain HTTP/1.1 client over loopback for tests: one request per connection.
public enum HTTPTestClient {
    public struct Reply: Sendable {
        public let status: Int
        public let headers: [String: String]
        public let body: String

        public var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
        }
    }

    public static func request(port: Int, _ method: String = "GET", _ path: String, headers: [String: String] = [:], body: String? = nil) async throws -> Reply {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var head = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
            for (name, value) in headers { head += "\(name): \(value)\r\n" }
            let bytes = body.map { Array($0.utf8) } ?? []
            if body != nil { head += "Content-Length: \(bytes.count)\r\n" }
            var buffer = ByteBuffer(string: head + "\r\n")
            buffer.writeBytes(bytes)
            try await outbound.write(buffer)
            var response = ByteBuffer()
            for try await var chunk in inbound { response.writeBuffer(&chunk) }
            let text = String(buffer: response)
            let parts = text.components(separatedBy: "\r\n\r\n")
            let lines = parts[0].components(separatedBy: "\r\n")
            var headers: [String: String] = [:]
            for line in lines.dropFirst() {
                if let colon = line.firstIndex(of: ":") {
                    headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
            }
            let status = Int(lines[0].split(separator: " ").dropFirst().first ?? "") ?? 0
            return Reply(status: status, headers: headers, body: parts.dropFirst().joined(separator: "\r\n\r\n"))
        }
    }
}

/// Runs a Python 3 script or `-c` program (the tools the tests borrow from PyPI); returns its
/// exit status and everything it printed.
public func runPython(_ arguments: [String]) async throws -> (status: Int32, output: String) {
    try await runProcess("/usr/bin/env", ["python3"] + arguments)
}

/// Runs an executable to its end; its exit status and its standard output and error together.
/// The waiting happens on a Dispatch thread: a test blocking one of Swift's cooperative threads
/// (two on a 2-core machine) for a browser run would stall every suite running beside it.
public func runProcess(_ path: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, output: String) {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: path)
                process.arguments = arguments
                if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
                let pipe = Pipe()
                process.standardOutput = pipe
                process.standardError = pipe
                try process.run()
                let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                process.waitUntilExit()
                return (process.terminationStatus, output)
            })
        }
    }
}
