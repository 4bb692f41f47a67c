import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// Co-creation: ideas and requests from customers, votes from other accounts (one per
/// account), status with history; when an idea ships or is declined, every customer who asked
/// or voted is told.
enum IdeaStore {
    typealias Idea = Forge_Feedback_V1_Idea

    static func submit(_ db: Database, _ requested: Idea, principal: Principal, now: Date) throws -> Idea {
        guard let account = try FeedbackStore.account(db, requested.accountID) else {
            throw RPCError(.notFound, "account \(requested.accountID) not found", violations: [FieldViolation(field: "idea.account_id", description: "is not a known account")])
        }
        var idea = Idea.with {
            $0.id = EventID.make(prefix: "idea", at: now)
            $0.accountID = requested.accountID
            $0.accountName = account.entry.name
            $0.contactID = requested.contactID
            $0.title = requested.title.trimmed
            $0.description_p = requested.description_p.trimmed
            $0.category = requested.category
            $0.productLine = requested.productLine
            $0.status = .new
            $0.voterAccountIds = [requested.accountID]
            $0.votes = 1
            $0.submittedBy = principal.subject
            $0.createdAt = .init(date: now)
            $0.updatedAt = .init(date: now)
            $0.version = 1
        }
        idea.history = [.with { $0.to = .new; $0.by = principal.subject; $0.at = .init(date: now) }]
        try db.execute(sql: "INSERT INTO idea (id, account_id, status, product_line, votes, created_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       arguments: [idea.id, idea.accountID, idea.status.rawValue, idea.productLine, idea.votes, now.timeIntervalSince1970, try idea.serializedData()])
        try Outbox.append(db, Forge_Feedback_V1_IdeaSubmitted.with { $0.idea = idea }, accountID: idea.accountID, at: now)
        return idea
    }

    /// Another account's vote; a second vote from the same account changes nothing.
    static func vote(_ db: Database, id: String, accountID: String, now: Date) throws -> Idea {
        guard var idea = try byID(db, id) else { throw RPCError(.notFound, "idea \(id) not found") }
        guard try FeedbackStore.account(db, accountID) != nil else {
            throw RPCError(.notFound, "account_id names no known account", violations: [FieldViolation(field: "account_id", description: "is not a known account")])
        }
        guard !idea.voterAccountIds.contains(accountID) else { return idea }
        idea.voterAccountIds.append(accountID)
        idea.votes = Int32(idea.voterAccountIds.count)
        idea.updatedAt = .init(date: now)
        idea.version += 1
        try save(db, idea)
        return idea
    }

    static func updateStatus(_ db: Database, _ request: Forge_Feedback_V1_UpdateIdeaStatusRequest, principal: Principal, now: Date) throws -> Idea {
        guard var idea = try byID(db, request.id) else { throw RPCError(.notFound, "idea \(request.id) not found") }
        if request.version != 0, request.version != idea.version {
            throw RPCError(.aborted, "idea \(request.id) changed (version \(idea.version), you read \(request.version)): read it again")
        }
        if let problem = IdeaRules.transitionProblem(from: idea.status, to: request.status, note: request.note) {
            // A move the idea's status does not allow is the idea's state (409 over HTTP); a
            // missing note is the request's (400).
            if problem.field == "status" { throw RPCError(.failedPrecondition, "idea \(request.id): \(problem.description)", violations: [problem]) }
            throw RPCError.invalidArgument([problem])
        }
        let change = Forge_Feedback_V1_IdeaStatusChange.with {
            $0.from = idea.status
            $0.to = request.status
            $0.note = request.note
            $0.by = principal.subject
            $0.at = .init(date: now)
        }
        idea.status = request.status
        idea.statusNote = request.note
        idea.history.append(change)
        idea.updatedAt = .init(date: now)
        idea.version += 1
        try save(db, idea)
        if idea.status == .shipped || idea.status == .declined {
            try tellCustomers(db, idea, now: now)
        }
        try Outbox.append(db, Forge_Feedback_V1_IdeaStatusChanged.with {
            $0.idea = idea
            $0.change = change
        }, accountID: idea.accountID, at: now)
        return idea
    }

    /// The contact who brought the idea, and the main contact of each account that voted.
    private static func tellCustomers(_ db: Database, _ idea: Idea, now: Date) throws {
        var recipients: [(accountID: String, contactID: String)] = []
        if !idea.contactID.isEmpty { recipients.append((idea.accountID, idea.contactID)) }
        for accountID in idea.voterAccountIds where !(accountID == idea.accountID && !idea.contactID.isEmpty) {
            if let contact = try FeedbackStore.mainContact(db, accountID: accountID) { recipients.append((accountID, contact.id)) }
        }
        for recipient in recipients {
            let accountName = try AccountDirectory.entry(db, accountID: recipient.accountID)?.name ?? ""
            try Outbox.append(db, Forge_Common_V1_NotificationRequested.with {
                $0.recipientContactID = recipient.contactID
                $0.accountID = recipient.accountID
                $0.channel = .email
                $0.template = idea.status == .shipped ? "idea_shipped" : "idea_declined"
                $0.parameters = ["idea_title": idea.title, "status_note": idea.statusNote, "account_name": accountName]
                $0.dedupeKey = "idea:\(idea.id):\(IdeaRules.name(idea.status)):\(recipient.contactID)"
                // The answer to the customer's own request.
                $0.transactional = true
                $0.locale = "zh"
            }, accountID: recipient.accountID, at: now)
        }
    }

    static func save(_ db: Database, _ idea: Idea) throws {
        try db.execute(sql: "UPDATE idea SET account_id = ?, status = ?, product_line = ?, votes = ?, payload = ? WHERE id = ?",
                       arguments: [idea.accountID, idea.status.rawValue, idea.productLine, idea.votes, try idea.serializedData(), idea.id])
    }

    static func byID(_ db: Database, _ id: String) throws -> Idea? {
        try Data.fetchOne(db, sql: "SELECT payload FROM idea WHERE id = ?", arguments: [id]).map { try Idea(serializedBytes: $0) }
    }

    /// The board: most votes first. The cursor is "<votes>|<id>" of the last one listed.
    static func list(_ db: Database, statuses: [Forge_Feedback_V1_IdeaStatus], accountID: String, productLine: String, after: String, limit: Int) throws -> [Idea] {
        var clauses: [String] = []
        var arguments: StatementArguments = []
        if !statuses.isEmpty { clauses.append("status IN (\(statuses.map { String($0.rawValue) }.joined(separator: ",")))") }
        if !accountID.isEmpty {
            clauses.append("account_id = ?")
            arguments += [accountID]
        }
        if !productLine.isEmpty {
            clauses.append("product_line = ?")
            arguments += [productLine]
        }
        if let bar = after.firstIndex(of: "|"), let votes = Int(after[..<bar]) {
            clauses.append("(votes < ? OR (votes = ? AND id > ?))")
            arguments += [votes, votes, String(after[after.index(after: bar)...])]
        }
        return try Data.fetchAll(db.cachedStatement(sql: "SELECT payload FROM idea \(clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")) ORDER BY votes DESC, id LIMIT ?"),
                                 arguments: arguments + [limit]).map { try Idea(serializedBytes: $0) }
    }
}
