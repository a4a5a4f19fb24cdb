using System.Reflection;
using WampContracts.Testing;

namespace WampContracts.TypeScript.Tests;

/// <summary>
/// The TypeScript side of the tests, in <c>ts/</c> (packages installed by <c>setup.sh</c>): the generated client of the
/// conferences contract, the TypeScript compiler and Node.js, each run with a bounded lifetime.
/// </summary>
internal static class TypeScriptPeer
{
    /// <summary>The tests share ts/out/: they run one at a time.</summary>
    public const string Collection = "TypeScript peers";

    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    public static string Directory { get; } = Locate();

    public static string Out => Path.Combine(Directory, "out");

    /// <summary>tests/Generator.Tests/Snapshots.</summary>
    public static string GeneratorSnapshots { get; } =
        typeof(TypeScriptPeer).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "GeneratorSnapshotsDirectory").Value!;

    private static string Locate()
    {
        string dir = typeof(TypeScriptPeer).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "TypeScriptDirectory").Value!;
        foreach (string package in new[] { "typescript", "autobahn", "ws" })
            if (!System.IO.Directory.Exists(Path.Combine(dir, "node_modules", package)))
                throw new InvalidOperationException($"The TypeScript test packages are not installed in {dir}: run tests/TypeScript.Tests/setup.sh first.");
        return dir;
    }

    /// <summary>
    /// Copies the client that the conferences sample's build generated (into its wwwroot/contracts, copied beside this
    /// assembly) to ts/out/generated/, where the test sources import it from ("./generated/…", through tsconfig's rootDirs).
    /// </summary>
    public static IReadOnlyList<string> CopyGenerated()
    {
        string from = Path.Combine(AppContext.BaseDirectory, "wwwroot", "contracts");
        string to = Path.Combine(Out, "generated");
        System.IO.Directory.CreateDirectory(to);
        var files = System.IO.Directory.GetFiles(from).Where(f => f.EndsWith(".js", StringComparison.Ordinal) || f.EndsWith(".d.ts", StringComparison.Ordinal)).Order().ToList();
        if (files.Count == 0) throw new InvalidOperationException($"No generated TypeScript in {from}: the Conferences sample sets WampTypeScriptOutput, so its build writes it.");
        foreach (string f in files) File.Copy(f, Path.Combine(to, Path.GetFileName(f)), overwrite: true);
        return files.Select(Path.GetFileName).ToList()!;
    }

    /// <summary>Runs the pinned TypeScript compiler in ts/ and returns its exit code and output.</summary>
    public static Task<(int ExitCode, string Output)> TscAsync(params string[] arguments) =>
        RunAsync("node", [Path.Combine("node_modules", "typescript", "bin", "tsc"), "--pretty", "false", .. arguments]);

    /// <summary>Type-checks one file of ts/typecheck/ against the generated client (tsc --noEmit).</summary>
    public static Task<(int ExitCode, string Output)> TypeCheckAsync(string file)
    {
        CopyGenerated();
        string config = Path.Combine(Out, $"tsconfig.{Path.GetFileNameWithoutExtension(file)}.json");
        File.WriteAllText(config, $$"""
            { "extends": "../tsconfig.json", "compilerOptions": { "noEmit": true }, "files": ["../shims.d.ts", "../typecheck/{{file}}"] }
            """);
        return TscAsync("-p", config);
    }

    public static async Task<(int ExitCode, string Output)> RunAsync(string fileName, string[] arguments)
    {
        await using var process = PeerProcess.Start(fileName, arguments, Bound + TimeSpan.FromSeconds(10), Directory);
        int exit = await process.WaitForExitAsync(Bound);
        return (exit, process.Log);
    }
}
