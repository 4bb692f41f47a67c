import ForgeWire

extension ServerContext {
    /// The authenticated caller of a method that needs one; UNAUTHENTICATED otherwise (the
    /// interceptor lets no such call through, so this guards handlers called directly).
    public func caller() throws -> Principal {
        guard let principal else { throw RPCError(.unauthenticated, "no caller") }
        return principal
    }
}
