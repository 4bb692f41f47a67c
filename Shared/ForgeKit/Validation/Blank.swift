import Foundation

extension StringProtocol {
    /// Empty once spaces, tabs and line breaks are trimmed: what a required text field refuses.
    /// The OpenAPI document states the same class of characters (protoc-gen-forge's `@required`),
    /// so a request the document calls valid is one the services accept.
    public var isBlank: Bool {
        unicodeScalars.allSatisfy { CharacterSet.whitespacesAndNewlines.contains($0) }
    }
}
