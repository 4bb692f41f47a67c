import SwiftProtobufPluginLibrary

/// A protoc plugin that generates, for every proto `service`: a method namespace, a handler
/// protocol with its router registration, and a typed client; and, for the whole invocation,
/// a registry of method → request/response types (used by `forge call` and the JSON gateway).
///
/// Options (`--forge_opt`): `Visibility=Public|Internal` (default Public),
/// `Registry=<file name>` to emit the method registry (omitted: no registry),
/// `Schemas=<file name>` to emit a JSON Schema of every message (omitted: none).
@main
struct ForgeGenerator: CodeGenerator {
    var supportedFeatures: [Google_Protobuf_Compiler_CodeGeneratorResponse.Feature] {
        [.proto3Optional]
    }

    func generate(
        files: [FileDescriptor],
        parameter: any CodeGeneratorParameter,
        protoCompilerContext: any ProtoCompilerContext,
        generatorOutputs: any GeneratorOutputs
    ) throws {
        var visibility = "public"
        var registryFile: String?
        var schemasFile: String?
        for (key, value) in parameter.parsedPairs {
            switch key {
            case "Visibility": visibility = value.lowercased() == "internal" ? "internal" : "public"
            case "Registry": registryFile = value
            case "Schemas": schemasFile = value
            default: throw GeneratorError.unknownOption(key)
            }
        }

        var registered: [ServiceDescriptor] = []
        for file in files where !file.services.isEmpty {
            let emitter = ServiceEmitter(file: file, visibility: visibility)
            let outputName = file.name.replacingSuffix(".proto", with: ".forge.swift")
            try generatorOutputs.add(fileName: outputName, contents: emitter.render())
            registered.append(contentsOf: file.services)
        }
        if let registryFile {
            let registry = RegistryEmitter(services: registered, visibility: visibility)
            try generatorOutputs.add(fileName: registryFile, contents: registry.render())
        }
        if let schemasFile {
            try generatorOutputs.add(fileName: schemasFile, contents: try SchemaEmitter(files: files, visibility: visibility).render())
        }
    }
}

enum GeneratorError: Error, CustomStringConvertible {
    case unknownOption(String)
    case streamingNotSupported(String)

    var description: String {
        switch self {
        case .unknownOption(let key): "protoc-gen-forge: unknown option '\(key)'"
        case .streamingNotSupported(let method):
            "protoc-gen-forge: \(method) is streaming; every Forge RPC is unary (DESIGN §4)"
        }
    }
}

extension String {
    func replacingSuffix(_ suffix: String, with replacement: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) + replacement : self + replacement
    }
}
