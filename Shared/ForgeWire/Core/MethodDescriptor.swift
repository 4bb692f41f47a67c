import SwiftProtobuf

/// Names one RPC: its fully-qualified service and its method.
public struct MethodDescriptor: Sendable, Hashable, CustomStringConvertible {
    /// The fully-qualified service, e.g. `forge.accounts.v1.Accounts`.
    public let service: String
    /// The method's name, e.g. `GetAccount`.
    public let method: String
    /// The wire form, `/<service>/<method>`.
    public let path: String

    public init(service: String, method: String) {
        self.service = service
        self.method = method
        self.path = "/\(service)/\(method)"
    }

    /// Parses `/pkg.Service/Method` (the leading slash is optional).
    public init?(path: String) {
        let trimmed = path.hasPrefix("/") ? path.dropFirst() : Substring(path)
        let parts = trimmed.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        self.init(service: String(parts[0]), method: String(parts[1]))
    }

    public var description: String { path }

    /// What logs and metrics call a method no route serves: `/unknown/unknown`.
    public static let unknown = MethodDescriptor(service: "unknown", method: "unknown")
}

/// A method with its request and response message types, for tools that work from a method's
/// name alone (`forge call`, the JSON gateway).
public struct RegisteredMethod: Sendable {
    public let descriptor: MethodDescriptor
    public let requestType: any SwiftProtobuf.Message.Type
    public let responseType: any SwiftProtobuf.Message.Type

    public init(
        _ descriptor: MethodDescriptor,
        request: any SwiftProtobuf.Message.Type,
        response: any SwiftProtobuf.Message.Type
    ) {
        self.descriptor = descriptor
        self.requestType = request
        self.responseType = response
    }
}
