import ForgeContracts
import ForgeWire
import GRDB
import SwiftProtobuf

/// `forge.common.v1.EventFeed/Pull`: long-polls the outbox, waking on commit.
public struct EventFeedService: Forge_Common_V1_EventFeedHandler {
    let database: any DatabaseReader
    let signal: CommitSignal

    public init(database: any DatabaseReader, signal: CommitSignal) {
        self.database = database
        self.signal = signal
    }

    public func pull(_ request: Forge_Common_V1_PullRequest, context: ServerContext) async throws -> Forge_Common_V1_PullResponse {
        var violations: [FieldViolation] = []
        if request.maxEvents < 0 || request.maxEvents > 1000 {
            violations.append(FieldViolation(field: "max_events", description: "must be between 0 and 1000"))
        }
        if request.waitMs < 0 || request.waitMs > 30_000 {
            violations.append(FieldViolation(field: "wait_ms", description: "must be between 0 and 30000"))
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }

        let limit = request.maxEvents == 0 ? 100 : Int(request.maxEvents)
        let wait = min(Duration.milliseconds(Int64(request.waitMs)), context.remainingTime - .milliseconds(50))
        let giveUp = ContinuousClock.now + max(.zero, wait)
        while true {
            // Read the generation before querying: a commit between the query and the wait then
            // still wakes the wait.
            let seen = signal.generation
            let (events, head, incarnation) = try await database.read { db in
                (try Outbox.events(db, after: request.afterSeq, limit: limit, types: request.types), try Outbox.headSeq(db), try Outbox.incarnation(db))
            }
            let remaining = giveUp - ContinuousClock.now
            let consumerMustResync = request.afterSeq > head || (!request.incarnation.isEmpty && request.incarnation != incarnation.id)
            if !events.isEmpty || remaining <= .zero || Task.isCancelled || signal.isClosed || consumerMustResync {
                return .with {
                    $0.events = events
                    $0.headSeq = head
                    // A full batch may stop short of the head; otherwise everything up to the
                    // head that matches was returned. Never beyond the head: a cursor there
                    // (a restored outbox) must see that it is.
                    $0.scannedThroughSeq = events.count == limit ? (events.last?.seq ?? request.afterSeq) : head
                    $0.incarnation = incarnation.id
                    $0.incarnationStartsAfterSeq = incarnation.startsAfterSeq
                }
            }
            await signal.wait(beyond: seen, timeout: remaining)
        }
    }
}
