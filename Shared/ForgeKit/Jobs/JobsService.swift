import ForgeContracts
import ForgeWire
import Foundation
import SwiftProtobuf

/// `forge.common.v1.Jobs`: dead jobs are visible and retryable by an admin.
public struct JobsService: Forge_Common_V1_JobsHandler {
    let scheduler: JobScheduler

    public init(scheduler: JobScheduler) {
        self.scheduler = scheduler
    }

    public func listJobs(_ request: Forge_Common_V1_ListJobsRequest, context: ServerContext) async throws -> Forge_Common_V1_ListJobsResponse {
        guard (0...500).contains(request.limit) else {
            throw RPCError.invalidArgument([FieldViolation(field: "limit", description: "must be between 0 and 500")])
        }
        let state: String? = switch request.state {
        case .pending: "pending"
        case .running: "running"
        case .done: "done"
        case .dead: "dead"
        default: nil
        }
        let jobs = try await scheduler.jobs(state: state, limit: request.limit == 0 ? 50 : Int(request.limit))
        return .with { $0.jobs = jobs.map(\.wire) }
    }

    public func retryJob(_ request: Forge_Common_V1_RetryJobRequest, context: ServerContext) async throws -> Forge_Common_V1_RetryJobResponse {
        guard !request.id.isEmpty else {
            throw RPCError.invalidArgument([FieldViolation(field: "id", description: "is required")])
        }
        guard let job = try await scheduler.retry(id: request.id) else {
            throw RPCError(.notFound, "no job \(request.id) that can be retried")
        }
        return .with { $0.job = job.wire }
    }
}

extension JobRecord {
    var wire: Forge_Common_V1_Job {
        .with {
            $0.id = id
            $0.kind = kind
            $0.state = switch state {
            case "pending": .pending
            case "running": .running
            case "done": .done
            case "dead": .dead
            default: .unspecified
            }
            $0.dueAt = Google_Protobuf_Timestamp(date: Date(timeIntervalSince1970: dueAt))
            $0.attempts = Int32(attempts)
            $0.maxAttempts = Int32(maxAttempts)
            $0.lastError = lastError
        }
    }
}
