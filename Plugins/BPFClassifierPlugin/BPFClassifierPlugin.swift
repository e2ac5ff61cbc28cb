import PackagePlugin

/// Compiles BPF/classifier.bpf.c with the toolchain's clang for the BPF
/// target and embeds the resulting ELF object into the target as a generated
/// Swift source, so the engine loads the classifier from memory
/// (bpf_object__open_mem) and never looks for a file at run time.
@main
struct BPFClassifierPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let bpfDirectory = context.package.directoryURL.appending(path: "BPF")
        let source = bpfDirectory.appending(path: "classifier.bpf.c")
        let sharedHeader = bpfDirectory.appending(path: "homeless_bpf.h")
        let object = context.pluginWorkDirectoryURL.appending(path: "classifier.bpf.o")
        let generated = context.pluginWorkDirectoryURL.appending(path: "EmbeddedClassifierObject.swift")
        let clang = try context.tool(named: "clang")
        let embed = try context.tool(named: "BPFEmbed")
        return [
            .buildCommand(
                displayName: "Compiling and embedding the BPF classifier",
                executable: embed.url,
                arguments: [
                    "--clang", clang.url.path(),
                    "--source", source.path(),
                    "--object", object.path(),
                    "--output", generated.path(),
                    "--include", bpfDirectory.path(),
                    "--include", "/usr/include/\(Self.multiarchTriple)",
                ],
                inputFiles: [source, sharedHeader],
                outputFiles: [generated]
            )
        ]
    }

    /// Debian-style multiarch directory holding <asm/types.h>, which the
    /// kernel UAPI headers need and `-target bpf` does not search.
    static var multiarchTriple: String {
        #if arch(x86_64)
        "x86_64-linux-gnu"
        #elseif arch(arm64)
        "aarch64-linux-gnu"
        #else
        "linux-gnu"
        #endif
    }
}
