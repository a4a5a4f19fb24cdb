using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using WampContracts.Generator.Diagnostics;
using WampContracts.Generator.Model;
using WampContracts.Generator.Parsing;

namespace WampContracts.Generator.Analyzers;

/// <summary>Reports every contract mistake (WAMP0001…) at build time, with the member named and the fix said.</summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class WampContractAnalyzer : DiagnosticAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.NotAnInterface,
        DiagnosticDescriptors.UnsupportedReturnType,
        DiagnosticDescriptors.UnsupportedParameter,
        DiagnosticDescriptors.GenericMethod,
        DiagnosticDescriptors.CancellationTokenNotLast,
        DiagnosticDescriptors.DuplicateUri,
        DiagnosticDescriptors.DuplicateUriAcrossContractsEnd,
        DiagnosticDescriptors.InvalidUri,
        DiagnosticDescriptors.ReservedUri,
        DiagnosticDescriptors.UnsupportedMember,
        DiagnosticDescriptors.MultipleIdempotencyKeys,
        DiagnosticDescriptors.IdempotencyKeyType,
        DiagnosticDescriptors.InvalidTimeout,
        DiagnosticDescriptors.GenericContract,
        DiagnosticDescriptors.ErrorTypeNotWampException,
        DiagnosticDescriptors.ErrorTypeConstructor,
        DiagnosticDescriptors.InaccessibleContract,
        DiagnosticDescriptors.RetryNotSafe,
        DiagnosticDescriptors.NoSideEffectsDeduplicated,
        DiagnosticDescriptors.UnsupportedWireType,
        DiagnosticDescriptors.MissingJsonMetadata,
        DiagnosticDescriptors.NotAContract,
        DiagnosticDescriptors.MissingCancellationToken);

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            var known = ServiceParser.Known(start.Compilation);
            if (known.ServiceAttribute is null) return; // the compilation does not reference WampContracts

            // Every (URI, method) of every contract, grouped once the whole compilation has been seen (WAMP0007).
            var uses = new ConcurrentBag<(string Uri, string Owner, Location? Location)>();

            // In a trimmed or Native AOT app (the SDK turns these analyzers on for PublishAot, PublishTrimmed, IsAotCompatible
            // and IsTrimmable), every type a contract carries needs source-generated JSON metadata (WAMP0021).
            bool checkMetadata = IsTrue(start.Options, "EnableAotAnalyzer") || IsTrue(start.Options, "EnableTrimAnalyzer");
            var carried = new ConcurrentBag<CarriedType>();
            var contexts = new ConcurrentBag<INamedTypeSymbol>();

            start.RegisterOperationAction(operationContext => CheckContractUse(operationContext, known), OperationKind.Invocation);

            start.RegisterSymbolAction(symbolContext =>
            {
                var type = (INamedTypeSymbol)symbolContext.Symbol;
                if (checkMetadata && JsonMetadataCoverage.IsContext(type, known)) contexts.Add(type);
                foreach (var attribute in type.GetAttributes())
                {
                    ContractKind kind;
                    if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, known.ServiceAttribute)) kind = ContractKind.Service;
                    else if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, known.EventsAttribute)) kind = ContractKind.Events;
                    else if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, known.ErrorAttribute))
                    {
                        foreach (var p in ContractAnalysis.AnalyzeError(type, attribute, known, out _, out _)) Report(symbolContext, p);
                        if (checkMetadata)
                            foreach (var property in ContractAnalysis.ErrorData(type, known))
                                carried.Add(new CarriedType(property.Type, $"Property '{property.Name}'", type.Name, property.Locations.FirstOrDefault()));
                        continue;
                    }
                    else continue;

                    var analysis = ContractAnalysis.Analyze(type, attribute, kind, known, symbolContext.CancellationToken);
                    foreach (var problem in analysis.Problems) Report(symbolContext, problem);
                    if (!analysis.CanGenerate) continue;
                    foreach (var method in analysis.Methods)
                    {
                        uses.Add((method.Uri, type.ToDisplayString() + "." + method.Symbol.Name, method.Symbol.Locations.FirstOrDefault()));
                        if (!checkMetadata) continue;
                        string member = type.Name + "." + method.Symbol.Name;
                        foreach (var p in method.Parameters)
                            if (p.Role == ParameterRole.Argument)
                                carried.Add(new CarriedType(p.Symbol.Type, $"Parameter '{p.Symbol.Name}'", member, p.Symbol.Locations.FirstOrDefault()));
                        if (method.Result is not null)
                            carried.Add(new CarriedType(method.Result, "The result", member, method.Symbol.Locations.FirstOrDefault()));
                    }
                }
            }, SymbolKind.NamedType);

            start.RegisterCompilationEndAction(end =>
            {
                if (checkMetadata) ReportMissingMetadata(end, known, contexts, carried);

                // Deterministic: the first owner in ordinal order keeps the URI; every other one is reported.
                foreach (var group in uses.GroupBy(u => u.Uri).Where(g => g.Count() > 1))
                {
                    var owners = group.OrderBy(u => u.Owner, System.StringComparer.Ordinal).ToList();
                    foreach (var other in owners.Skip(1))
                        end.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.DuplicateUriAcrossContractsEnd, other.Location, other.Owner, group.Key, owners[0].Owner));
                }
            });
        });
    }

    /// <summary>A type a contract carries, and where: the parameter or the result of a method.</summary>
    private sealed record CarriedType(ITypeSymbol Type, string What, string Member, Location? Location);

    private static bool IsTrue(AnalyzerOptions options, string property) =>
        options.AnalyzerConfigOptionsProvider.GlobalOptions.TryGetValue("build_property." + property, out var value)
        && string.Equals(value, "true", System.StringComparison.OrdinalIgnoreCase);

    /// <summary>WAMP0021: one diagnostic per type without metadata, at its first use (by member, then position).</summary>
    private static void ReportMissingMetadata(CompilationAnalysisContext end, KnownSymbols known, IEnumerable<INamedTypeSymbol> contexts, IEnumerable<CarriedType> carried)
    {
        var ordered = contexts.OrderBy(c => c.ToDisplayString(), System.StringComparer.Ordinal).ToList();
        var coverage = new JsonMetadataCoverage(end.Compilation, known, ordered);
        string contextName = ordered.Count > 0 ? ordered[0].Name : "AppJsonContext";
        var reported = new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default);
        foreach (var use in carried.OrderBy(c => c.Member, System.StringComparer.Ordinal).ThenBy(c => c.Location?.SourceSpan.Start ?? 0))
        {
            if (coverage.Covers(use.Type) || !reported.Add(use.Type)) continue;
            end.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.MissingJsonMetadata, use.Location, use.What, use.Member, use.Type.ToDisplayString(TypeOfFormat), contextName));
        }
    }

    /// <summary>How a type is written inside typeof(): namespaces, no nullable reference annotations.</summary>
    private static readonly SymbolDisplayFormat TypeOfFormat = new(
        typeQualificationStyle: SymbolDisplayTypeQualificationStyle.NameAndContainingTypesAndNamespaces,
        genericsOptions: SymbolDisplayGenericsOptions.IncludeTypeParameters,
        miscellaneousOptions: SymbolDisplayMiscellaneousOptions.UseSpecialTypes);

    /// <summary>
    /// WAMP0022: GetProxy&lt;T&gt;() or GetPublisher&lt;T&gt;() of a type that is not a contract, or RegisterAsync&lt;T&gt;()
    /// or SubscribeAsync&lt;T&gt;() of an interface that is not one: the generated code it needs does not exist.
    /// </summary>
    private static void CheckContractUse(OperationAnalysisContext context, KnownSymbols known)
    {
        var invocation = (Microsoft.CodeAnalysis.Operations.IInvocationOperation)context.Operation;
        var method = invocation.TargetMethod;
        if (method.TypeArguments.Length != 1 || method.ContainingType?.ToDisplayString() != "WampContracts.WampSessionContractExtensions") return;
        bool events;
        switch (method.Name)
        {
            case "GetProxy": case "RegisterAsync": events = false; break;
            case "GetPublisher": case "SubscribeAsync": events = true; break;
            default: return;
        }
        if (method.TypeArguments[0] is not INamedTypeSymbol type || type.TypeKind == TypeKind.Error) return;
        bool implementation = method.Name is "RegisterAsync" or "SubscribeAsync";
        if (implementation && type.TypeKind != TypeKind.Interface) return; // an implementation: its contracts are found at run time
        // Only a type of this project can be given the attribute; for others the run-time error explains it.
        if (!type.Locations.Any(l => l.IsInSource)) return;
        var attribute = events ? known.EventsAttribute : known.ServiceAttribute;
        if (known.Find(type, attribute) is not null) return;

        string attributeName = events ? "WampEvents" : "WampService";
        string what = events ? (implementation ? "subscriber" : "publisher") : (implementation ? "callee stub" : "caller proxy");
        // The type argument as written, when it is; the fix adds the attribute where the interface is declared.
        var location = invocation.Syntax is Microsoft.CodeAnalysis.CSharp.Syntax.InvocationExpressionSyntax
        {
            Expression: Microsoft.CodeAnalysis.CSharp.Syntax.MemberAccessExpressionSyntax { Name: Microsoft.CodeAnalysis.CSharp.Syntax.GenericNameSyntax generic }
        } ? generic.TypeArgumentList.Arguments[0].GetLocation() : invocation.Syntax.GetLocation();
        var declaration = type.TypeKind == TypeKind.Interface ? type.Locations.Where(l => l.IsInSource) : Enumerable.Empty<Location>();
        var properties = ImmutableDictionary<string, string?>.Empty
            .Add("Attribute", attributeName)
            .Add("Prefix", SuggestedPrefix(type));
        context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.NotAContract, location, declaration, properties,
            type.Name, method.Name, attributeName, what));
    }

    /// <summary>A prefix for a new contract: its namespace in lowercase, then its name in snake_case without a leading I.</summary>
    private static string SuggestedPrefix(INamedTypeSymbol type)
    {
        string name = type.TypeKind == TypeKind.Interface && type.Name.Length > 1 && type.Name[0] == 'I' && char.IsUpper(type.Name[1]) ? type.Name.Substring(1) : type.Name;
        var parts = new List<string>();
        if (type.ContainingNamespace is { IsGlobalNamespace: false } ns)
            foreach (var part in ns.ToDisplayString().Split('.')) parts.Add(UriRules.ToSnakeCase(part));
        if (parts.Count == 0) parts.Add("com.example");
        parts.Add(UriRules.ToSnakeCase(name));
        var prefix = new System.Text.StringBuilder();
        foreach (char c in string.Join(".", parts))
            if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c is '_' or '.') prefix.Append(c);
        return prefix.ToString();
    }

    private static void Report(SymbolAnalysisContext context, ContractProblem problem) =>
        context.ReportDiagnostic(Diagnostic.Create(problem.Descriptor, problem.Location, problem.Arguments));
}
