using System.Collections.Immutable;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using WampContracts.Generator.Model;

namespace WampContracts.Generator.Parsing;

/// <summary>
/// Whether, and under which module name, a project asks for TypeScript peers. WampContracts.TypeScript.targets defines
/// <see cref="DefineSymbol"/> when <c>WampTypeScriptOutput</c> is set: the parse step sees it in each tree's parse options
/// (so it describes wire types only then) and the pipeline in the project's; <c>WampTypeScriptModule</c> is a property
/// made visible to the compiler.
/// </summary>
internal static class TypeScriptOptions
{
    public const string DefineSymbol = "WAMPCONTRACTS_TYPESCRIPT";
    public const string ModuleProperty = "build_property.WampTypeScriptModule";

    public static bool DescribesWire(SyntaxTree tree) => tree.Options is CSharpParseOptions options && Defines(options);

    public static bool Defines(ParseOptions options) => options.PreprocessorSymbolNames.Contains(DefineSymbol);

    /// <summary>The module's file name, or null when the project does not opt in.</summary>
    public static string? ModuleName(bool enabled, AnalyzerConfigOptions options, string assemblyName)
    {
        if (!enabled) return null;
        if (options.TryGetValue(ModuleProperty, out string? module) && !string.IsNullOrWhiteSpace(module)) return KebabCase(module.Trim());
        return KebabCase(assemblyName.Length > 0 ? assemblyName : "contracts");
    }

    public static TypeScriptModuleSpec? Gather(string? module, ImmutableArray<ServiceSpec?> services, ImmutableArray<ServiceSpec?> events, ImmutableArray<ErrorSpec?> errors)
    {
        if (module is null) return null;
        var contracts = services.Concat(events).Where(s => s is not null).Select(s => s!)
            .OrderBy(s => s.MetadataName, System.StringComparer.Ordinal).ThenBy(s => s.Kind).ToEquatableArray();
        var errorSpecs = errors.Where(e => e is not null).Select(e => e!)
            .OrderBy(e => e.Uri, System.StringComparer.Ordinal).ThenBy(e => e.MetadataName, System.StringComparer.Ordinal).ToEquatableArray();
        return new TypeScriptModuleSpec(module, contracts, errorSpecs);
    }

    /// <summary>A file name from an assembly name: <c>MyApp.Conferences</c> → <c>my-app.conferences</c>.</summary>
    public static string KebabCase(string name)
    {
        var sb = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c))
            {
                bool boundary = i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1]) && char.IsUpper(name[i - 1])));
                if (boundary) sb.Append('-');
                sb.Append(char.ToLowerInvariant(c));
            }
            else if (char.IsLetterOrDigit(c) || c is '.' or '-' or '_') sb.Append(c);
            else sb.Append('-');
        }
        return sb.ToString();
    }
}
