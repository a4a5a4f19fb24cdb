using System.Collections.Concurrent;
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
        DiagnosticDescriptors.NoSideEffectsDeduplicated);

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

            start.RegisterSymbolAction(symbolContext =>
            {
                var type = (INamedTypeSymbol)symbolContext.Symbol;
                foreach (var attribute in type.GetAttributes())
                {
                    ContractKind kind;
                    if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, known.ServiceAttribute)) kind = ContractKind.Service;
                    else if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, known.EventsAttribute)) kind = ContractKind.Events;
                    else if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, known.ErrorAttribute))
                    {
                        foreach (var p in ContractAnalysis.AnalyzeError(type, attribute, known, out _, out _)) Report(symbolContext, p);
                        continue;
                    }
                    else continue;

                    var analysis = ContractAnalysis.Analyze(type, attribute, kind, known, symbolContext.CancellationToken);
                    foreach (var problem in analysis.Problems) Report(symbolContext, problem);
                    if (!analysis.CanGenerate) continue;
                    foreach (var method in analysis.Methods)
                        uses.Add((method.Uri, type.ToDisplayString() + "." + method.Symbol.Name, method.Symbol.Locations.FirstOrDefault()));
                }
            }, SymbolKind.NamedType);

            start.RegisterCompilationEndAction(end =>
            {
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

    private static void Report(SymbolAnalysisContext context, ContractProblem problem) =>
        context.ReportDiagnostic(Diagnostic.Create(problem.Descriptor, problem.Location, problem.Arguments));
}
