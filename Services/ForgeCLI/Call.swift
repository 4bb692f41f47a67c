import ArgumentParser
import ForgeContracts
import ForgeWire
import Foundation
import SwiftProtobuf

/// `forge call`: a grpcurl for Forge. Encodes a JSON request with swift-protobuf's JSON mapping,
/// sends it over the wire protocol and prints the JSON reply or the status.
struct Call: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Call any Forge RPC with a JSON request.",
        discussion: """
            forge call 127.0.0.1:7101 forge.accounts.v1.Accounts/GetAccount '{"id":"acc_…"}'
            forge call --list
            """
    )

    @Flag(name: .long, help: "Print every method with its request type.")
    var list = false

    @Argument(help: "The server, host:port.")
    var address: String?

    @Argument(help: "The method, package.Service/Method (a leading slash is allowed).")
    var method: String?

    @Argument(help: "The request as JSON; '-' reads standard input; omitted sends an empty request.")
    var json: String?

    @Option(name: .long, help: "Bearer token (default: $FORGE_TOKEN).")
    var token: String?

    @Option(name: .long, help: "Timeout in milliseconds.")
    var timeoutMs: Int = 10_000

    @Option(name: [.customShort("H"), .long], help: "Extra metadata, key:value (repeatable).")
    var header: [String] = []

    func validate() throws {
        if !list, address == nil || method == nil {
            throw ValidationError("give ADDRESS and METHOD, or --list")
        }
    }

    func run() async throws {
        if list {
            for registered in ForgeMethodRegistry.methods {
                print("\(registered.descriptor.service)/\(registered.descriptor.method)\t\(registered.requestType.protoMessageName)")
            }
            return
        }
        guard let address, let method else { return }
        guard let descriptor = MethodDescriptor(path: method),
              let registered = ForgeMethodRegistry.methods.first(where: { $0.descriptor == descriptor })
        else {
            throw ValidationError("unknown method '\(method)'; see forge call --list")
        }

        var text = json ?? "{}"
        if text == "-" {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        }
        let request: any SwiftProtobuf.Message
        do {
            request = try registered.requestType.init(jsonString: text)
        } catch {
            throw ValidationError("request is not a valid \(registered.requestType.protoMessageName): \(error)")
        }

        var metadata: [String: String] = [:]
        for entry in header {
            guard let colon = entry.firstIndex(of: ":") else {
                throw ValidationError("header '\(entry)' is not key:value")
            }
            metadata[entry[..<colon].trimmingCharacters(in: .whitespaces).lowercased()] =
                entry[entry.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        if let token = token ?? ProcessInfo.processInfo.environment["FORGE_TOKEN"], !token.isEmpty {
            metadata[MetadataKey.authorization] = "Bearer \(token)"
        }

        var configuration = ClientConfiguration()
        configuration.connections = 1
        let client = try WireClient(address: address, configuration: configuration)
        do {
            let reply = try await client.unary(
                descriptor,
                payload: try request.serializedData(),
                options: CallOptions(timeout: .milliseconds(timeoutMs), metadata: metadata)
            )
            let response = try registered.responseType.init(serializedBytes: reply)
            var options = JSONEncodingOptions()
            options.alwaysPrintEnumsAsInts = false
            print(try response.jsonString(options: options))
            await client.close()
        } catch let error as RPCError {
            await client.close()
            var stderr = StandardError()
            print(error.description, to: &stderr)
            // The exit status is the wire status code, so scripts can branch on it.
            throw ExitCode(Int32(clamping: error.code.rawValue == 0 ? 1 : error.code.rawValue))
        }
    }
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandle.standardError.write(Data(string.utf8))
    }
}
