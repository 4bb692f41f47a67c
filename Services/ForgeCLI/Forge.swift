import ArgumentParser

/// The `forge` command-line tool.
@main
struct Forge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forge",
        abstract: "Run, call and operate the Forge stack.",
        subcommands: [Up.self, Health.self, Call.self, Import.self, Token.self, Keys.self, Backup.self, Restore.self]
    )
}
