using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using WampContracts.Generator.Diagnostics;
using WampContracts.Generator.Model;

namespace WampContracts.Generator.Parsing;

/// <summary>A rule a contract breaks: what to report, and where.</summary>
internal readonly record struct ContractProblem(DiagnosticDescriptor Descriptor, Location? Location, object?[] Arguments);

/// <summary>A parameter as the checks saw it.</summary>
internal sealed record CheckedParameter(IParameterSymbol Symbol, ParameterRole Role, int WireIndex);

/// <summary>A method that passed every check.</summary>
internal sealed record CheckedMethod(IMethodSymbol Symbol, string Uri, ReturnKind ReturnKind, ITypeSymbol? Result,
    int TimeoutMilliseconds, IdempotencyLevel Idempotency, int IdempotencyKeyParameter, int RetryAttempts, IReadOnlyList<CheckedParameter> Parameters);

/// <summary>
/// The checks of one contract interface, shared by the analyzer (which reports the problems) and the generator's
/// parse step (which generates only the methods that passed), so the two can never disagree.
/// </summary>
internal sealed class ContractAnalysis
{
    private ContractAnalysis(ContractKind kind, string prefix)
    {
        Kind = kind;
        Prefix = prefix;
    }

    public ContractKind Kind { get; }
    public string Prefix { get; }
    public List<ContractProblem> Problems { get; } = new();
    public List<CheckedMethod> Methods { get; } = new();
    public List<SkippedMemberSpec> Skipped { get; } = new();

    /// <summary>False when the interface as a whole cannot be generated (generic, inaccessible, bad prefix).</summary>
    public bool CanGenerate { get; private set; } = true;

    private bool _prefixValid = true;

    public static ContractAnalysis Analyze(INamedTypeSymbol type, AttributeData attribute, ContractKind kind, KnownSymbols known, CancellationToken cancellationToken)
    {
        string prefix = attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is string p ? p : "";
        var analysis = new ContractAnalysis(kind, prefix);
        analysis.Run(type, attribute, known, cancellationToken);
        return analysis;
    }

    private void Report(DiagnosticDescriptor descriptor, ISymbol? at, params object?[] args) =>
        Problems.Add(new ContractProblem(descriptor, at?.Locations.FirstOrDefault(), args));

    private void Run(INamedTypeSymbol type, AttributeData attribute, KnownSymbols known, CancellationToken cancellationToken)
    {
        string attributeName = Kind == ContractKind.Service ? "WampService" : "WampEvents";
        var attributeLocation = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken).GetLocation();
        if (type.TypeKind != TypeKind.Interface)
        {
            Problems.Add(new ContractProblem(DiagnosticDescriptors.NotAnInterface, attributeLocation ?? type.Locations.FirstOrDefault(), new object?[] { attributeName, type.Name }));
            CanGenerate = false;
            return;
        }
        if (type.IsGenericType)
        {
            Report(DiagnosticDescriptors.GenericContract, type, type.Name);
            CanGenerate = false;
        }
        if (EffectiveAccessibility(type) is Accessibility.Private or Accessibility.Protected or Accessibility.ProtectedAndInternal)
        {
            Report(DiagnosticDescriptors.InaccessibleContract, type, type.Name, EffectiveAccessibility(type).ToString().ToLowerInvariant());
            CanGenerate = false;
        }
        string? prefixProblem = UriRules.Problem(Prefix);
        if (prefixProblem is not null)
        {
            Problems.Add(new ContractProblem(DiagnosticDescriptors.InvalidUri, attributeLocation, new object?[] { type.Name, Prefix, prefixProblem }));
            CanGenerate = _prefixValid = false;
        }
        else if (UriRules.IsReserved(Prefix))
        {
            Problems.Add(new ContractProblem(DiagnosticDescriptors.ReservedUri, attributeLocation, new object?[] { type.Name, Prefix }));
            CanGenerate = _prefixValid = false;
        }

        int serviceTimeout = TimeoutOf(type, known, type.Name);
        var byUri = new Dictionary<string, IMethodSymbol>();
        foreach (var member in type.GetMembers())
        {
            cancellationToken.ThrowIfCancellationRequested();
            switch (member)
            {
                case IPropertySymbol property:
                    Report(DiagnosticDescriptors.UnsupportedMember, property, property.IsIndexer ? "this[]" : property.Name, property.IsIndexer ? "an indexer" : "a property");
                    Skipped.Add(new SkippedMemberSpec(property.IsIndexer ? "this[]" : property.Name, DiagnosticDescriptors.UnsupportedMemberId, SkippedStubs.For(type, property)));
                    continue;
                case IEventSymbol @event:
                    Report(DiagnosticDescriptors.UnsupportedMember, @event, @event.Name, "an event");
                    Skipped.Add(new SkippedMemberSpec(@event.Name, DiagnosticDescriptors.UnsupportedMemberId, SkippedStubs.For(type, @event)));
                    continue;
                case IMethodSymbol { MethodKind: MethodKind.Ordinary, IsStatic: false, IsAbstract: true } method:
                    var problemsBefore = Problems.Count;
                    var checkedMethod = CheckMethod(method, known, serviceTimeout);
                    if (checkedMethod is not null && Problems.Count == problemsBefore)
                    {
                        if (byUri.TryGetValue(checkedMethod.Uri, out var first))
                        {
                            Report(DiagnosticDescriptors.DuplicateUri, method, method.Name, first.Name, checkedMethod.Uri);
                        }
                        else
                        {
                            byUri.Add(checkedMethod.Uri, method);
                            Methods.Add(checkedMethod);
                            // A suggestion, not an error: the method is generated either way.
                            if (Kind == ContractKind.Service && !checkedMethod.Parameters.Any(p => p.Role == ParameterRole.CancellationToken))
                                Report(DiagnosticDescriptors.MissingCancellationToken, method, method.Name);
                            continue;
                        }
                    }
                    Skipped.Add(new SkippedMemberSpec(method.Name, Problems[Problems.Count - 1].Descriptor.Id, SkippedStubs.For(type, method)));
                    continue;
                default:
                    continue; // accessors, static members and default implementations are not part of the wire contract
            }
        }
    }

    private CheckedMethod? CheckMethod(IMethodSymbol method, KnownSymbols known, int serviceTimeout)
    {
        string uri = UriRules.Combine(Prefix, method.Name, OverrideName(method, known));
        // With a bad prefix every URI would be bad too: the prefix is reported once instead.
        string? uriProblem = _prefixValid ? UriRules.Problem(uri) : null;
        if (uriProblem is not null) Report(DiagnosticDescriptors.InvalidUri, method, method.Name, uri, uriProblem);
        else if (_prefixValid && UriRules.IsReserved(uri)) Report(DiagnosticDescriptors.ReservedUri, method, method.Name, uri);

        if (method.IsGenericMethod) Report(DiagnosticDescriptors.GenericMethod, method, method.Name);

        var (returnKind, result) = ClassifyReturn(method.ReturnType, known);
        bool eventsOk = returnKind is ReturnKind.Task or ReturnKind.ValueTask;
        if (returnKind is null || (Kind == ContractKind.Events && !eventsOk))
        {
            string allowed = Kind == ContractKind.Events
                ? "Task or ValueTask: an event carries no answer"
                : "Task, Task<T>, ValueTask, ValueTask<T> or IAsyncEnumerable<T>";
            Report(DiagnosticDescriptors.UnsupportedReturnType, method, method.Name, method.ReturnType.ToDisplayString(), allowed);
        }
        if (result is not null && WireTypeRules.Problem(result, known) is { } resultProblem)
            Report(DiagnosticDescriptors.UnsupportedWireType, method, "The result", method.Name, result.ToDisplayString(), resultProblem);

        int timeout = TimeoutOf(method, known, method.Name);
        bool idempotent = known.Find(method, known.IdempotentAttribute) is not null;
        var noSideEffects = known.Find(method, known.NoSideEffectsAttribute);

        var parameters = new List<CheckedParameter>();
        int wire = 0, keys = 0, keyIndex = -1;
        for (int i = 0; i < method.Parameters.Length; i++)
        {
            var parameter = method.Parameters[i];
            if (parameter.RefKind != RefKind.None || parameter.IsParams)
            {
                string modifier = parameter.IsParams ? "params" : parameter.RefKind switch { RefKind.Out => "out", RefKind.In => "in", RefKind.RefReadOnlyParameter => "ref readonly", _ => "ref" };
                Report(DiagnosticDescriptors.UnsupportedParameter, parameter, parameter.Name, method.Name, modifier);
                continue;
            }
            if (SymbolEqualityComparer.Default.Equals(parameter.Type, known.CancellationToken))
            {
                if (i != method.Parameters.Length - 1) Report(DiagnosticDescriptors.CancellationTokenNotLast, parameter, method.Name, i + 1);
                parameters.Add(new CheckedParameter(parameter, ParameterRole.CancellationToken, -1));
                continue;
            }
            if (known.Find(parameter, known.IdempotencyKeyAttribute) is not null)
            {
                keys++;
                keyIndex = i;
                var keyType = parameter.Type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable ? nullable.TypeArguments[0] : parameter.Type;
                if (keyType.SpecialType == SpecialType.System_String)
                    parameters.Add(new CheckedParameter(parameter, ParameterRole.IdempotencyKeyString, -1));
                else if (SymbolEqualityComparer.Default.Equals(keyType, known.Guid))
                    parameters.Add(new CheckedParameter(parameter, ParameterRole.IdempotencyKeyGuid, -1));
                else
                    Report(DiagnosticDescriptors.IdempotencyKeyType, parameter, parameter.Name, method.Name, parameter.Type.ToDisplayString());
                continue;
            }
            if (WireTypeRules.Problem(parameter.Type, known) is { } typeProblem)
            {
                Report(DiagnosticDescriptors.UnsupportedWireType, parameter, $"Parameter '{parameter.Name}'", method.Name, parameter.Type.ToDisplayString(), typeProblem);
                continue;
            }
            parameters.Add(new CheckedParameter(parameter, ParameterRole.Argument, wire++));
        }
        if (keys > 1) Report(DiagnosticDescriptors.MultipleIdempotencyKeys, method, method.Name, keys);

        // Without side effects there is nothing to deduplicate: asking for it as well leaves it unclear whether the
        // callee should store outcomes, so the user chooses.
        if (noSideEffects is not null && (idempotent || keyIndex >= 0))
        {
            var at = noSideEffects.ApplicationSyntaxReference?.GetSyntax().GetLocation() ?? method.Locations.FirstOrDefault();
            object?[] args = idempotent
                ? new object?[] { method.Name, "its [Idempotent] attribute", "[Idempotent]" }
                : new object?[] { method.Name, $"its [IdempotencyKey] parameter '{method.Parameters[keyIndex].Name}'", "the [IdempotencyKey] parameter" };
            Problems.Add(new ContractProblem(DiagnosticDescriptors.NoSideEffectsDeduplicated, at, args));
        }
        var level = idempotent ? IdempotencyLevel.Idempotent : noSideEffects is not null ? IdempotencyLevel.NoSideEffects : IdempotencyLevel.Unknown;

        // A retry policy only where a retry cannot duplicate an effect.
        int retryAttempts = 0;
        if (known.Find(method, known.RetryAttribute) is { } retry)
        {
            retryAttempts = 3;
            foreach (var named in retry.NamedArguments)
                if (named.Key == "MaxAttempts" && named.Value.Value is int n) retryAttempts = System.Math.Max(1, System.Math.Min(5, n));
            if (level == IdempotencyLevel.Unknown && keyIndex < 0)
                Problems.Add(new ContractProblem(DiagnosticDescriptors.RetryNotSafe, retry.ApplicationSyntaxReference?.GetSyntax().GetLocation() ?? method.Locations.FirstOrDefault(), new object?[] { method.Name }));
        }

        return returnKind is null ? null : new CheckedMethod(method, uri, returnKind.Value, result, timeout > 0 ? timeout : serviceTimeout, level, keyIndex, retryAttempts, parameters);
    }

    private int TimeoutOf(ISymbol symbol, KnownSymbols known, string name)
    {
        var attribute = known.Find(symbol, known.TimeoutAttribute);
        if (attribute is null || attribute.ConstructorArguments.Length != 1 || attribute.ConstructorArguments[0].Value is not int ms) return 0;
        if (ms <= 0)
        {
            Problems.Add(new ContractProblem(DiagnosticDescriptors.InvalidTimeout, attribute.ApplicationSyntaxReference?.GetSyntax().GetLocation() ?? symbol.Locations.FirstOrDefault(), new object?[] { ms, name }));
            return 0;
        }
        return ms;
    }

    private string? OverrideName(IMethodSymbol method, KnownSymbols known)
    {
        var attribute = known.Find(method, Kind == ContractKind.Service ? known.ProcedureAttribute : known.TopicAttribute);
        return attribute is { ConstructorArguments.Length: 1 } && attribute.ConstructorArguments[0].Value is string name ? name : null;
    }

    private static (ReturnKind?, ITypeSymbol?) ClassifyReturn(ITypeSymbol type, KnownSymbols known)
    {
        if (SymbolEqualityComparer.Default.Equals(type, known.Task)) return (ReturnKind.Task, null);
        if (SymbolEqualityComparer.Default.Equals(type, known.ValueTask)) return (ReturnKind.ValueTask, null);
        if (type is INamedTypeSymbol { IsGenericType: true } generic)
        {
            var definition = generic.OriginalDefinition;
            var argument = generic.TypeArguments[0];
            if (SymbolEqualityComparer.Default.Equals(definition, known.TaskOfT)) return (ReturnKind.TaskOfT, argument);
            if (SymbolEqualityComparer.Default.Equals(definition, known.ValueTaskOfT)) return (ReturnKind.ValueTaskOfT, argument);
            if (SymbolEqualityComparer.Default.Equals(definition, known.AsyncEnumerable)) return (ReturnKind.AsyncEnumerable, argument);
        }
        return (null, null);
    }

    private static Accessibility EffectiveAccessibility(INamedTypeSymbol type)
    {
        var result = type.DeclaredAccessibility;
        for (var t = type.ContainingType; t is not null; t = t.ContainingType)
            if (t.DeclaredAccessibility < result) result = t.DeclaredAccessibility;
        return result;
    }

    /// <summary>
    /// The data a [WampError] exception carries: its public instance properties, declared on it or on a base type below
    /// WampException (Message, Uri, Payload and the rest of Exception's are not data).
    /// </summary>
    public static List<IPropertySymbol> ErrorData(INamedTypeSymbol type, KnownSymbols known)
    {
        var data = new List<IPropertySymbol>();
        var names = new HashSet<string>(System.StringComparer.Ordinal);
        for (var t = type; t is not null && !SymbolEqualityComparer.Default.Equals(t, known.WampException) && t.SpecialType != SpecialType.System_Object; t = t.BaseType)
        {
            if (t.ContainingNamespace?.ToDisplayString() == "System" && t.Name == "Exception") break;
            foreach (var member in t.GetMembers())
                if (member is IPropertySymbol { IsStatic: false, IsIndexer: false, IsOverride: false, DeclaredAccessibility: Accessibility.Public, GetMethod.DeclaredAccessibility: Accessibility.Public } property
                    && names.Add(property.Name))
                    data.Add(property);
        }
        return data;
    }

    /// <summary>
    /// The public constructor that rebuilds the exception from its data: every parameter matches a data property by
    /// name (ignoring case) and type; the one with the most parameters wins. Null when there is none.
    /// </summary>
    public static (IMethodSymbol Constructor, List<IPropertySymbol> Arguments)? DataConstructor(INamedTypeSymbol type, List<IPropertySymbol> data)
    {
        (IMethodSymbol, List<IPropertySymbol>)? best = null;
        foreach (var constructor in type.InstanceConstructors)
        {
            if (constructor.DeclaredAccessibility != Accessibility.Public || constructor.Parameters.Length == 0) continue;
            var arguments = new List<IPropertySymbol>();
            foreach (var parameter in constructor.Parameters)
            {
                var match = data.FirstOrDefault(p => string.Equals(p.Name, parameter.Name, System.StringComparison.OrdinalIgnoreCase)
                    && SymbolEqualityComparer.Default.Equals(p.Type, parameter.Type));
                if (match is null) break;
                arguments.Add(match);
            }
            if (arguments.Count == constructor.Parameters.Length && (best is null || arguments.Count > best.Value.Item2.Count))
                best = (constructor, arguments);
        }
        return best;
    }

    /// <summary>Checks a [WampError] exception type.</summary>
    public static List<ContractProblem> AnalyzeError(INamedTypeSymbol type, AttributeData attribute, KnownSymbols known, out bool fromPayload, out string? uri)
    {
        var problems = new List<ContractProblem>();
        fromPayload = false;
        uri = attribute.ConstructorArguments.Length == 1 ? attribute.ConstructorArguments[0].Value as string : null;
        var location = type.Locations.FirstOrDefault();
        string? uriProblem = UriRules.Problem(uri ?? "");
        if (uriProblem is not null) problems.Add(new ContractProblem(DiagnosticDescriptors.InvalidUri, location, new object?[] { type.Name, uri, uriProblem }));
        bool derives = false;
        for (var t = type.BaseType; t is not null; t = t.BaseType)
            if (SymbolEqualityComparer.Default.Equals(t, known.WampException)) derives = true;
        if (!derives)
        {
            problems.Add(new ContractProblem(DiagnosticDescriptors.ErrorTypeNotWampException, location, new object?[] { type.Name }));
            return problems;
        }
        var constructors = type.InstanceConstructors.Where(c => c.DeclaredAccessibility == Accessibility.Public).ToList();
        fromPayload = constructors.Any(c => c.Parameters.Length == 1 && SymbolEqualityComparer.Default.Equals(c.Parameters[0].Type, known.WampPayload));
        bool parameterless = constructors.Any(c => c.Parameters.Length == 0);
        var data = ErrorData(type, known);
        if (!fromPayload && !parameterless && DataConstructor(type, data) is null)
            problems.Add(new ContractProblem(DiagnosticDescriptors.ErrorTypeConstructor, location, new object?[] { type.Name, type.Name }));
        foreach (var property in data)
            if (WireTypeRules.Problem(property.Type, known) is { } typeProblem)
                problems.Add(new ContractProblem(DiagnosticDescriptors.UnsupportedWireType, property.Locations.FirstOrDefault(),
                    new object?[] { $"Property '{property.Name}'", type.Name, property.Type.ToDisplayString(), typeProblem }));
        return problems;
    }
}
