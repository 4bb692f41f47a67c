import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// Delivers one queued notification (the job of `NotificationStore.jobKind`): reads the
/// contact from forge-accounts as the gateway's service identity (address, name, consent),
/// renders the template and hands the mail to the SMTP relay. Marketing goes only to contacts
/// who consented; a contact without an e-mail address, or erased, is skipped with the reason.
/// SMS and WeChat requests are delivered by the bridges that subscribe to
/// `NotificationRequested` webhooks, so here they are only logged.
struct NotificationSender: Sendable {
    let database: DatabasePool
    /// forge-accounts, called as the service.
    let accounts: any RPCChannel
    /// nil without FORGE_SMTP_URL: e-mails then wait (and retry) until a relay is configured.
    let smtp: SMTPClient?
    /// Put before a link's path (`survey_path` → `survey_url`).
    var publicURL = ""
    let clock: any WallClock

    func send(key: String, job: JobRecord) async throws {
        guard let entry = try await database.read({ db in try NotificationStore.entry(db, key: key) }), entry.state == "pending" else { return }
        let request = entry.request
        let attempts = job.attempts + 1
        func finish(_ state: String, recipient: String = "", subject: String = "", error: String = "") async throws {
            let now = clock.now()
            try await database.write { db in
                try NotificationStore.finish(db, key: key, state: state, attempts: attempts, recipient: recipient, subject: subject, error: error, at: now)
            }
        }
        guard request.channel == .email || request.channel == .unspecified else {
            return try await finish("bridged")
        }
        let contact: Forge_Accounts_V1_Contact
        do {
            contact = try await Forge_Accounts_V1_AccountsClient(channel: accounts)
                .getContact(.with { $0.id = request.recipientContactID }, options: CallOptions(timeout: .seconds(10))).contact
        } catch let error as RPCError where error.code == .notFound {
            return try await finish("skipped", error: "contact \(request.recipientContactID) not found (erased or deleted)")
        }
        guard !contact.email.isEmpty else { return try await finish("skipped", error: "the contact has no e-mail address") }
        guard request.transactional || contact.marketingConsent else {
            return try await finish("skipped", error: "the contact has not consented to marketing messages")
        }
        var parameters = request.parameters
        parameters["contact_name"] = contact.name
        if let path = parameters["survey_path"], !path.isEmpty { parameters["survey_url"] = publicURL + path }
        guard let text = NotificationTemplates.render(request.template, locale: request.locale, parameters: parameters) else {
            return try await finish("skipped", error: "unknown template \(request.template)")
        }
        guard let smtp else {
            let message = "no SMTP relay configured (FORGE_SMTP_URL)"
            try await finish(attempts >= job.maxAttempts ? "dead" : "pending", recipient: contact.email, subject: text.subject, error: message)
            throw RPCError(.unavailable, message)
        }
        do {
            try await smtp.send(.init(to: contact.email, toName: contact.name, subject: text.subject, body: text.body,
                                      messageID: "\(NotificationStore.jobID(key).dropFirst(4))@forge"))
        } catch {
            try await finish(attempts >= job.maxAttempts ? "dead" : "pending", recipient: contact.email, subject: text.subject, error: "\(error)")
            throw RPCError(.unavailable, "notification \(key): \(error)")
        }
        try await finish("sent", recipient: contact.email, subject: text.subject)
    }
}
