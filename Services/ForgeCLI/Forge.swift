import ArgumentParser

/// The `forge` command-line tool.
@main
struct Forge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forge",
        abstract: "Run, call and operate the Forge stack.",
        subcommands: [Call.self]
    )
}
