import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Sends one message to an SMTP relay (RFC 5321): EHLO, STARTTLS when the relay offers it (or
/// always, when the URL asks), AUTH PLAIN when the URL carries credentials, then MAIL, RCPT and
/// DATA. `smtps://` speaks TLS from the start. Every reply is checked; a refusal or a dropped
/// connection throws, and the caller retries. The relay takes responsibility for a message
/// only with its final 250 after the data, so a connection lost before that delivers nothing.
struct SMTPClient: Sendable {
    struct Relay: Sendable, Equatable {
        enum Security: String, Sendable { case none, startTLS, startTLSRequired, implicitTLS }
        var host: String
        var port: Int
        var security: Security
        var username: String?
        var password: String?
        /// The envelope and From address.
        var from: String

        /// `smtp://[user:pass@]host[:port][?starttls=required|never][&from=addr]` or `smtps://…`.
        /// STARTTLS is used when the relay offers it unless `starttls=never`.
        init(url text: String) throws {
            guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(), ["smtp", "smtps"].contains(scheme),
                  let host = url.host, !host.isEmpty
            else { throw SMTPError("FORGE_SMTP_URL must look like smtp://host:port or smtps://user:password@host:465") }
            self.host = host
            let query = Dictionary((url.queryItems ?? []).map { ($0.name, $0.value ?? "") }) { $1 }
            switch (scheme, query["starttls"]) {
            case ("smtps", _): security = .implicitTLS
            case (_, "required"): security = .startTLSRequired
            case (_, "never"): security = .none
            default: security = .startTLS
            }
            port = url.port ?? (scheme == "smtps" ? 465 : 25)
            username = url.user.flatMap { $0.removingPercentEncoding }
            password = url.password.flatMap { $0.removingPercentEncoding }
            from = query["from"] ?? "forge@localhost"
        }
    }

    struct Message: Sendable {
        var to: String
        var toName: String
        var subject: String
        var body: String
        /// Stable per notification, so a receiving system can recognise a repeat.
        var messageID: String
    }

    struct SMTPError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    let relay: Relay
    var trustRoots: NIOSSLTrustRoots = .default
    var timeout: Duration = .seconds(30)

    func send(_ message: Message) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.session(message) }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw SMTPError("the SMTP relay \(relay.host):\(relay.port) did not finish within \(timeout)")
            }
            try await group.next()
            group.cancelAll()
        }
    }

    private func tlsContext() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = trustRoots
        return try NIOSSLContext(configuration: configuration)
    }

    private func session(_ message: Message) async throws {
        let implicitTLS = relay.security == .implicitTLS
        let context = try tlsContext()
        // SNI names a host, never an address (the certificate is then checked without a name).
        let host: String? = relay.host.contains(":") || relay.host.allSatisfy { $0.isNumber || $0 == "." } ? nil : relay.host
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .connect(host: relay.host, port: relay.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if implicitTLS { try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: host)) }
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let raw = channel.channel
        try await channel.executeThenClose { inbound, outbound in
            var replies = ReplyReader(inbound.makeAsyncIterator())
            func command(_ line: String, expect codes: Set<Int>) async throws -> Reply {
                try await outbound.write(ByteBuffer(string: line + "\r\n"))
                return try await expectReply(&replies, codes, after: line.hasPrefix("AUTH") ? "AUTH" : line)
            }
            _ = try await expectReply(&replies, [220], after: "connect")
            var ehlo = try await command("EHLO forge.local", expect: [250])
            let offersTLS = ehlo.lines.contains { $0.uppercased().hasPrefix("STARTTLS") }
            if !implicitTLS, relay.security == .startTLSRequired || (relay.security == .startTLS && offersTLS) {
                guard offersTLS else { throw SMTPError("the SMTP relay does not offer STARTTLS, which FORGE_SMTP_URL requires") }
                _ = try await command("STARTTLS", expect: [220])
                try await raw.eventLoop.submit {
                    try raw.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: host), position: .first)
                }.get()
                ehlo = try await command("EHLO forge.local", expect: [250])
            }
            if let username = relay.username {
                let credentials = Data("\u{0}\(username)\u{0}\(relay.password ?? "")".utf8).base64EncodedString()
                _ = try await command("AUTH PLAIN \(credentials)", expect: [235])
            }
            _ = try await command("MAIL FROM:<\(relay.from)>", expect: [250])
            _ = try await command("RCPT TO:<\(message.to)>", expect: [250, 251])
            _ = try await command("DATA", expect: [354])
            try await outbound.write(ByteBuffer(string: Self.content(message, from: relay.from) + "\r\n.\r\n"))
            _ = try await expectReply(&replies, [250], after: "the message")
            try? await outbound.write(ByteBuffer(string: "QUIT\r\n"))
        }
    }

    struct Reply {
        var code: Int
        var lines: [String]
    }

    private func expectReply(_ reader: inout ReplyReader, _ codes: Set<Int>, after what: String) async throws -> Reply {
        guard let reply = try await reader.next() else { throw SMTPError("the SMTP relay closed the connection after \(what)") }
        guard codes.contains(reply.code) else {
            throw SMTPError("the SMTP relay answered \(what) with \(reply.code) \(reply.lines.joined(separator: " "))")
        }
        return reply
    }

    /// Replies as the relay sends them: "250-first", "250-…", "250 last".
    struct ReplyReader {
        var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
        var pending = ""

        init(_ iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator) { self.iterator = iterator }

        mutating func line() async throws -> String? {
            while true {
                if let end = pending.range(of: "\r\n") {
                    let line = String(pending[..<end.lowerBound])
                    pending.removeSubrange(..<end.upperBound)
                    return line
                }
                guard let buffer = try await iterator.next() else { return nil }
                pending += String(buffer: buffer)
            }
        }

        mutating func next() async throws -> Reply? {
            var lines: [String] = []
            while let line = try await line() {
                guard line.count >= 3, let code = Int(line.prefix(3)) else { throw SMTPError("the SMTP relay sent '\(line)'") }
                lines.append(String(line.dropFirst(4)))
                if line.count == 3 || line[line.index(line.startIndex, offsetBy: 3)] == " " { return Reply(code: code, lines: lines) }
            }
            return nil
        }
    }

    /// The message in UTF-8: headers encoded per RFC 2047, the body in base64 (lines of 76),
    /// so Chinese text and any dots at line starts travel intact.
    static func content(_ message: Message, from: String) -> String {
        func encoded(_ text: String) -> String {
            text.allSatisfy { $0.isASCII } ? text : "=?UTF-8?B?\(Data(text.utf8).base64EncodedString())?="
        }
        let body = Data(message.body.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return [
            "From: \(encoded("Forge")) <\(from)>",
            "To: \(message.toName.isEmpty ? "" : encoded(message.toName) + " ")<\(message.to)>",
            "Subject: \(encoded(message.subject))",
            "Date: \(formatter.string(from: Date()))",
            "Message-ID: <\(message.messageID)>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=UTF-8",
            "Content-Transfer-Encoding: base64",
            "",
            body,
        ].joined(separator: "\r\n")
    }
}
