namespace WampContracts.TypeScript.Tests;

/// <summary>
/// The generated declarations make contract mistakes compile errors: each file of ts/typecheck/ is checked with the
/// pinned tsc (--noEmit) against the conferences client the sample's build generated.
/// </summary>
[Collection(TypeScriptPeer.Collection)]
public sealed class TypeCheckTests
{
    private static int ErrorCount(string output) => output.Split('\n').Count(l => l.Contains(": error TS", StringComparison.Ordinal));

    [Fact]
    public async Task Correct_use_of_the_generated_client_type_checks()
    {
        var (exit, output) = await TypeScriptPeer.TypeCheckAsync("good.ts");
        Assert.True(exit == 0, $"tsc exited {exit}:\n{output}");
        Assert.Equal(0, ErrorCount(output));
    }

    [Fact]
    public async Task A_string_for_an_int_parameter_fails_with_TS2345()
    {
        var (exit, output) = await TypeScriptPeer.TypeCheckAsync("wrong-argument.ts");
        Assert.True(exit != 0, $"tsc accepted conferences.get(\"123\"):\n{output}");
        Assert.Contains("typecheck/wrong-argument.ts(7,25): error TS2345: Argument of type 'string' is not assignable to parameter of type 'number'.", output);
        Assert.True(ErrorCount(output) == 1, output);
    }

    [Fact]
    public async Task Reading_a_field_the_contract_type_lacks_fails_with_TS2339()
    {
        var (exit, output) = await TypeScriptPeer.TypeCheckAsync("missing-field.ts");
        Assert.True(exit != 0, $"tsc accepted c.city:\n{output}");
        Assert.Contains("typecheck/missing-field.ts(8,12): error TS2339: Property 'city' does not exist on type 'Conference'.", output);
        Assert.True(ErrorCount(output) == 1, output);
    }

    [Theory]
    [InlineData("Every_method_shape_in_TypeScript")]
    [InlineData("Data_types_in_TypeScript")]
    public async Task The_generators_TypeScript_snapshots_compile_strictly(string snapshot)
    {
        // Beside the runtime declarations they import, as the build writes them.
        TypeScriptPeer.CopyGenerated();
        string dir = Path.Combine(TypeScriptPeer.Out, "snapshots", snapshot);
        Directory.CreateDirectory(dir);
        File.Copy(Path.Combine(TypeScriptPeer.GeneratorSnapshots, snapshot + ".verified.d.ts"), Path.Combine(dir, "contracts.d.ts"), overwrite: true);
        File.Copy(Path.Combine(TypeScriptPeer.GeneratorSnapshots, snapshot + ".verified.js"), Path.Combine(dir, "contracts.js"), overwrite: true);
        File.Copy(Path.Combine(TypeScriptPeer.Out, "generated", "wamp-contracts.d.ts"), Path.Combine(dir, "wamp-contracts.d.ts"), overwrite: true);

        var (exit, output) = await TypeScriptPeer.TscAsync("--ignoreConfig", "--noEmit", "--strict", "--target", "es2022", "--module", "nodenext", "--lib", "es2022,dom",
            Path.Combine(dir, "contracts.d.ts"));
        Assert.True(exit == 0, $"tsc rejected the declarations of {snapshot}:\n{output}");

        // The module itself is valid JavaScript (an ES module: ts/package.json says so).
        var (checkedJs, nodeOutput) = await TypeScriptPeer.RunAsync("node", ["--check", Path.Combine(dir, "contracts.js")]);
        Assert.True(checkedJs == 0, $"node rejected the module of {snapshot}:\n{nodeOutput}");
    }
}
