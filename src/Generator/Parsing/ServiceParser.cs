using System.Globalization;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using WampContracts.Generator.Model;

namespace WampContracts.Generator.Parsing;

/// <summary>
/// The generator's one parse step: turns a contract interface symbol into a <see cref="ServiceSpec"/> of plain values.
/// Nothing after this step sees a symbol.
/// </summary>
internal static class ServiceParser
{
    private static readonly ConditionalWeakTable<Compilation, KnownSymbols> KnownByCompilation = new();

    private static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    public static KnownSymbols Known(Compilation compilation) => KnownByCompilation.GetValue(compilation, static c => new KnownSymbols(c));

    public static ServiceSpec? Parse(GeneratorAttributeSyntaxContext context, ContractKind kind, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type || context.Attributes.Length == 0) return null;
        var known = Known(context.SemanticModel.Compilation);
        var analysis = ContractAnalysis.Analyze(type, context.Attributes[0], kind, known, cancellationToken);
        if (!analysis.CanGenerate) return null;

        // What JSON carries is described only for a project that asks for TypeScript peers: the walk over the types
        // costs as much again as the rest of the parse, and the C# emitter does not need it.
        var wire = TypeScriptOptions.DescribesWire(context.TargetNode.SyntaxTree) ? new WireTypeParser(known, cancellationToken) : null;
        var procedures = analysis.Methods
            .Select(m => ToSpec(m, wire, cancellationToken))
            .OrderBy(p => p.Uri, System.StringComparer.Ordinal)
            .ThenBy(p => p.Signature, System.StringComparer.Ordinal)
            .ToEquatableArray();
        return new ServiceSpec(
            kind,
            type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
            MetadataName(type),
            type.Name,
            IsPublic(type),
            procedures,
            analysis.Skipped.ToEquatableArray(),
            wire?.Shapes ?? EquatableArray<TypeShapeSpec>.Empty);
    }

    public static ErrorSpec? ParseError(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type || context.Attributes.Length == 0) return null;
        cancellationToken.ThrowIfCancellationRequested();
        var known = Known(context.SemanticModel.Compilation);
        var problems = ContractAnalysis.AnalyzeError(type, context.Attributes[0], known, out bool fromPayload, out string? uri);
        if (problems.Count > 0 || uri is null || type.IsAbstract || type.IsGenericType) return null;
        var data = ContractAnalysis.ErrorData(type, known);
        var properties = data.Select(p => new ErrorPropertySpec(p.Name, JsonName(p, known), p.Type.ToDisplayString(TypeFormat))).ToEquatableArray();
        var arguments = ContractAnalysis.DataConstructor(type, data) is { } constructor
            ? constructor.Arguments.Select(p => p.Name).ToEquatableArray()
            : EquatableArray<string>.Empty;
        // A data constructor wins: the payload constructor stays for errors built by hand.
        return new ErrorSpec(type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat), MetadataName(type), uri, fromPayload && arguments.Count == 0, properties, arguments);
    }

    /// <summary>The keyword-argument name of an error property: [JsonPropertyName], else camelCase as the runtime's options write it.</summary>
    private static string JsonName(IPropertySymbol property, KnownSymbols known) =>
        known.Find(property, known.JsonPropertyName) is { ConstructorArguments.Length: 1 } a && a.ConstructorArguments[0].Value is string name
            ? name
            : WireTypeParser.CamelCase(property.Name);

    /// <summary>A JsonSerializerContext the generated code can name (not private, not generic), in a project that uses WampContracts.</summary>
    public static JsonContextSpec? ParseJsonContext(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type || type.IsGenericType) return null;
        cancellationToken.ThrowIfCancellationRequested();
        var known = Known(context.SemanticModel.Compilation);
        if (known.ServiceAttribute is null || !JsonMetadataCoverage.IsContext(type, known)) return null;
        for (ISymbol? t = type; t is INamedTypeSymbol named; t = named.ContainingType)
            if (named.DeclaredAccessibility is Accessibility.Private or Accessibility.Protected or Accessibility.ProtectedAndInternal) return null;
        return new JsonContextSpec(type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat), MetadataName(type));
    }

    private static ProcedureSpec ToSpec(CheckedMethod method, WireTypeParser? wire, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var parameters = method.Parameters.Select(p => new ParameterSpec(
            p.Symbol.Name,
            p.Symbol.Type.ToDisplayString(TypeFormat),
            p.Role,
            p.WireIndex,
            p.Symbol.HasExplicitDefaultValue || p.Symbol.NullableAnnotation == NullableAnnotation.Annotated || p.Symbol.Type.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T,
            DefaultValue(p.Symbol),
            wire is null || p.Role == ParameterRole.CancellationToken ? null : wire.Parse(p.Symbol.Type),
            wire is null || p.Role == ParameterRole.CancellationToken ? null : wire.DefaultJson(p.Symbol))).ToEquatableArray();
        string signature = string.Join(", ", method.Symbol.Parameters.Select(p => p.Type.ToDisplayString(TypeFormat) + " " + p.Name));
        return new ProcedureSpec(
            method.Symbol.Name,
            method.Uri,
            method.ReturnKind,
            method.Result?.ToDisplayString(TypeFormat),
            parameters,
            method.TimeoutMilliseconds,
            method.Idempotency,
            method.IdempotencyKeyParameter,
            method.RetryAttempts,
            signature,
            method.Result is null ? null : wire?.Parse(method.Result));
    }

    /// <summary>The C# expression of a parameter's default value, or null for <c>default!</c>.</summary>
    private static string? DefaultValue(IParameterSymbol parameter)
    {
        if (!parameter.HasExplicitDefaultValue || parameter.ExplicitDefaultValue is null) return null;
        string literal = SymbolDisplay.FormatPrimitive(parameter.ExplicitDefaultValue, quoteStrings: true, useHexadecimalNumbers: false);
        return string.Format(CultureInfo.InvariantCulture, "({0})({1})", parameter.Type.ToDisplayString(TypeFormat), literal);
    }

    private static string MetadataName(INamedTypeSymbol type)
    {
        string ns = type.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() + "." : "";
        string nesting = "";
        // Nesting is written '+', as in CLR metadata, so Outer.IInner in namespace A differs from IInner in namespace A.Outer.
        for (var t = type.ContainingType; t is not null; t = t.ContainingType) nesting = t.Name + "+" + nesting;
        return ns + nesting + type.Name;
    }

    private static bool IsPublic(INamedTypeSymbol type)
    {
        for (ISymbol? t = type; t is INamedTypeSymbol named; t = named.ContainingType)
            if (named.DeclaredAccessibility != Accessibility.Public) return false;
        return true;
    }
}
