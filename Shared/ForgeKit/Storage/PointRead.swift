import GRDB

extension DatabasePool {
    /// A short read run on the calling thread — for a handler, its connection's event loop.
    /// GRDB's async `read` hands the work to a dispatch thread and resumes the caller after it:
    /// two thread wake-ups, which on a busy machine cost a point read more than the read
    /// itself (a 360° view makes nine of them, one per section: each service's CPU per section
    /// fell by a fifth). The loop serves nothing else while the read runs, so only for one
    /// record or a bounded page of one account's rows — the 360° sections — never for a
    /// report or a scan; a read that finds every reader busy waits for one here, as GRDB's
    /// async read would.
    public func pointRead<T>(_ body: (Database) throws -> T) throws -> T {
        try read(body)
    }
}
