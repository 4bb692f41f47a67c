import Foundation

/// Where a webhook may send company data: only http(s), and — unless the deployment allows it
/// (`FORGE_WEBHOOK_ALLOW_PRIVATE=true`, for receivers inside the company network or tests) —
/// never to loopback, link-local or private addresses, which would let whoever may create a
/// subscription make the gateway call services behind the firewall.
///
/// Names are checked as written: a public name that resolves to a private address is not
/// caught here (that needs a check of the address at connection time).
enum WebhookTarget {
    /// What is wrong with `url` as a webhook target, or nil.
    static func problem(_ url: String, allowPrivate: Bool) -> String? {
        guard url.count <= 2000, let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = parsed.host?.lowercased(), !host.isEmpty
        else { return "must be an http:// or https:// URL" }
        guard !allowPrivate else { return nil }
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if bare == "localhost" || bare.hasSuffix(".localhost") || isPrivate(bare) {
            return "must not point at a loopback, link-local or private address (\(bare)); set FORGE_WEBHOOK_ALLOW_PRIVATE=true to allow receivers inside the network"
        }
        return nil
    }

    /// Whether a literal IPv4 or IPv6 address is loopback, link-local, private, unspecified or
    /// shared (carrier-grade NAT); false for names.
    static func isPrivate(_ host: String) -> Bool {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            return isPrivate(ipv4: UInt32(bigEndian: v4.s_addr))
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, host, &v6) == 1 else { return false }
        let bytes = withUnsafeBytes(of: v6) { Array($0) }
        if bytes.allSatisfy({ $0 == 0 }) { return true }  // ::
        if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }  // ::1
        if bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80 { return true }  // fe80::/10 link-local
        if bytes[0] & 0xFE == 0xFC { return true }  // fc00::/7 unique local
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {  // ::ffff:a.b.c.d
            return isPrivate(ipv4: UInt32(bytes[12]) << 24 | UInt32(bytes[13]) << 16 | UInt32(bytes[14]) << 8 | UInt32(bytes[15]))
        }
        return false
    }

    private static func isPrivate(ipv4 address: UInt32) -> Bool {
        let ranges: [(network: UInt32, prefix: UInt32)] = [
            (0x0000_0000, 8),   // 0.0.0.0/8 "this network"
            (0x0A00_0000, 8),   // 10/8
            (0x6440_0000, 10),  // 100.64/10 carrier-grade NAT
            (0x7F00_0000, 8),   // 127/8 loopback
            (0xA9FE_0000, 16),  // 169.254/16 link-local (cloud metadata services live here)
            (0xAC10_0000, 12),  // 172.16/12
            (0xC0A8_0000, 16),  // 192.168/16
        ]
        return ranges.contains { address & (UInt32.max << (32 - $0.prefix)) == $0.network }
    }
}
