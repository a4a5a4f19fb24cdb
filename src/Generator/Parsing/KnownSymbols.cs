using Microsoft.CodeAnalysis;

namespace WampContracts.Generator.Parsing;

/// <summary>The well-known types contract checks need, resolved once per compilation.</summary>
internal sealed class KnownSymbols
{
    public const string WampServiceAttribute = "WampContracts.WampServiceAttribute";
    public const string WampEventsAttribute = "WampContracts.WampEventsAttribute";
    public const string WampErrorAttribute = "WampContracts.WampErrorAttribute";

    public KnownSymbols(Compilation compilation)
    {
        Task = compilation.GetTypeByMetadataName("System.Threading.Tasks.Task");
        TaskOfT = compilation.GetTypeByMetadataName("System.Threading.Tasks.Task`1");
        ValueTask = compilation.GetTypeByMetadataName("System.Threading.Tasks.ValueTask");
        ValueTaskOfT = compilation.GetTypeByMetadataName("System.Threading.Tasks.ValueTask`1");
        AsyncEnumerable = compilation.GetTypeByMetadataName("System.Collections.Generic.IAsyncEnumerable`1");
        CancellationToken = compilation.GetTypeByMetadataName("System.Threading.CancellationToken");
        Guid = compilation.GetTypeByMetadataName("System.Guid");
        WampException = compilation.GetTypeByMetadataName("WampContracts.WampException");
        WampPayload = compilation.GetTypeByMetadataName("WampContracts.WampPayload");
        ProcedureAttribute = compilation.GetTypeByMetadataName("WampContracts.WampProcedureAttribute");
        TopicAttribute = compilation.GetTypeByMetadataName("WampContracts.WampTopicAttribute");
        TimeoutAttribute = compilation.GetTypeByMetadataName("WampContracts.TimeoutAttribute");
        IdempotentAttribute = compilation.GetTypeByMetadataName("WampContracts.IdempotentAttribute");
        NoSideEffectsAttribute = compilation.GetTypeByMetadataName("WampContracts.NoSideEffectsAttribute");
        IdempotencyKeyAttribute = compilation.GetTypeByMetadataName("WampContracts.IdempotencyKeyAttribute");
        RetryAttribute = compilation.GetTypeByMetadataName("WampContracts.RetryAttribute");
        ServiceAttribute = compilation.GetTypeByMetadataName(WampServiceAttribute);
        EventsAttribute = compilation.GetTypeByMetadataName(WampEventsAttribute);
        ErrorAttribute = compilation.GetTypeByMetadataName(WampErrorAttribute);
    }

    public INamedTypeSymbol? Task { get; }
    public INamedTypeSymbol? TaskOfT { get; }
    public INamedTypeSymbol? ValueTask { get; }
    public INamedTypeSymbol? ValueTaskOfT { get; }
    public INamedTypeSymbol? AsyncEnumerable { get; }
    public INamedTypeSymbol? CancellationToken { get; }
    public INamedTypeSymbol? Guid { get; }
    public INamedTypeSymbol? WampException { get; }
    public INamedTypeSymbol? WampPayload { get; }
    public INamedTypeSymbol? ProcedureAttribute { get; }
    public INamedTypeSymbol? TopicAttribute { get; }
    public INamedTypeSymbol? TimeoutAttribute { get; }
    public INamedTypeSymbol? IdempotentAttribute { get; }
    public INamedTypeSymbol? NoSideEffectsAttribute { get; }
    public INamedTypeSymbol? IdempotencyKeyAttribute { get; }
    public INamedTypeSymbol? RetryAttribute { get; }
    public INamedTypeSymbol? ServiceAttribute { get; }
    public INamedTypeSymbol? EventsAttribute { get; }
    public INamedTypeSymbol? ErrorAttribute { get; }

    public AttributeData? Find(ISymbol symbol, INamedTypeSymbol? attribute)
    {
        if (attribute is null) return null;
        foreach (var a in symbol.GetAttributes())
            if (SymbolEqualityComparer.Default.Equals(a.AttributeClass, attribute)) return a;
        return null;
    }
}
