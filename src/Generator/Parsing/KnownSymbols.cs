using Microsoft.CodeAnalysis;

namespace WampContracts.Generator.Parsing;

/// <summary>The well-known types contract checks need, resolved once per compilation.</summary>
internal sealed class KnownSymbols
{
    public const string WampServiceAttribute = "WampContracts.WampServiceAttribute";
    public const string WampEventsAttribute = "WampContracts.WampEventsAttribute";
    public const string WampErrorAttribute = "WampContracts.WampErrorAttribute";
    public const string JsonSerializableAttribute = "System.Text.Json.Serialization.JsonSerializableAttribute";

    public KnownSymbols(Compilation compilation)
    {
        Task = compilation.GetTypeByMetadataName("System.Threading.Tasks.Task");
        TaskOfT = compilation.GetTypeByMetadataName("System.Threading.Tasks.Task`1");
        ValueTask = compilation.GetTypeByMetadataName("System.Threading.Tasks.ValueTask");
        ValueTaskOfT = compilation.GetTypeByMetadataName("System.Threading.Tasks.ValueTask`1");
        AsyncEnumerable = compilation.GetTypeByMetadataName("System.Collections.Generic.IAsyncEnumerable`1");
        CancellationToken = compilation.GetTypeByMetadataName("System.Threading.CancellationToken");
        Guid = compilation.GetTypeByMetadataName("System.Guid");
        Stream = compilation.GetTypeByMetadataName("System.IO.Stream");
        JsonPolymorphic = compilation.GetTypeByMetadataName("System.Text.Json.Serialization.JsonPolymorphicAttribute");
        JsonDerivedType = compilation.GetTypeByMetadataName("System.Text.Json.Serialization.JsonDerivedTypeAttribute");
        JsonSerializerContext = compilation.GetTypeByMetadataName("System.Text.Json.Serialization.JsonSerializerContext");
        JsonSerializable = compilation.GetTypeByMetadataName("System.Text.Json.Serialization.JsonSerializableAttribute");
        JsonSourceGenerationOptions = compilation.GetTypeByMetadataName("System.Text.Json.Serialization.JsonSourceGenerationOptionsAttribute");
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
        foreach (string name in StringLikeTypes)
            if (compilation.GetTypeByMetadataName(name) is { } t) StringLike.Add(t);
        foreach (string name in AnyJsonTypes)
            if (compilation.GetTypeByMetadataName(name) is { } t) AnyJson.Add(t);
        Enumerable = compilation.GetTypeByMetadataName("System.Collections.Generic.IEnumerable`1");
        Dictionary = compilation.GetTypeByMetadataName("System.Collections.Generic.IDictionary`2");
        ReadOnlyDictionary = compilation.GetTypeByMetadataName("System.Collections.Generic.IReadOnlyDictionary`2");
        JsonPropertyName = compilation.GetTypeByMetadataName("System.Text.Json.Serialization.JsonPropertyNameAttribute");
        JsonIgnore = compilation.GetTypeByMetadataName("System.Text.Json.Serialization.JsonIgnoreAttribute");
        JsonInclude = compilation.GetTypeByMetadataName("System.Text.Json.Serialization.JsonIncludeAttribute");
        JsonConverter = compilation.GetTypeByMetadataName("System.Text.Json.Serialization.JsonConverterAttribute");
        JsonStringEnumConverter = compilation.GetTypeByMetadataName("System.Text.Json.Serialization.JsonStringEnumConverter");
        JsonStringEnumConverterOfT = compilation.GetTypeByMetadataName("System.Text.Json.Serialization.JsonStringEnumConverter`1");
        JsonStringEnumMemberName = compilation.GetTypeByMetadataName("System.Text.Json.Serialization.JsonStringEnumMemberNameAttribute");
    }

    /// <summary>Types System.Text.Json writes as JSON strings.</summary>
    private static readonly string[] StringLikeTypes =
    {
        "System.Guid", "System.DateTime", "System.DateTimeOffset", "System.DateOnly", "System.TimeOnly", "System.TimeSpan",
        "System.Uri", "System.Version",
    };

    /// <summary>Types that hold any JSON value.</summary>
    private static readonly string[] AnyJsonTypes =
    {
        "System.Text.Json.JsonElement", "System.Text.Json.JsonDocument", "System.Text.Json.Nodes.JsonNode",
        "System.Text.Json.Nodes.JsonObject", "System.Text.Json.Nodes.JsonArray", "System.Text.Json.Nodes.JsonValue",
    };

    public System.Collections.Generic.HashSet<INamedTypeSymbol> StringLike { get; } = new(SymbolEqualityComparer.Default);
    public System.Collections.Generic.HashSet<INamedTypeSymbol> AnyJson { get; } = new(SymbolEqualityComparer.Default);
    public INamedTypeSymbol? Enumerable { get; }
    public INamedTypeSymbol? Dictionary { get; }
    public INamedTypeSymbol? ReadOnlyDictionary { get; }
    public INamedTypeSymbol? JsonPropertyName { get; }
    public INamedTypeSymbol? JsonIgnore { get; }
    public INamedTypeSymbol? JsonInclude { get; }
    public INamedTypeSymbol? JsonConverter { get; }
    public INamedTypeSymbol? JsonStringEnumConverter { get; }
    public INamedTypeSymbol? JsonStringEnumConverterOfT { get; }
    public INamedTypeSymbol? JsonStringEnumMemberName { get; }

    public INamedTypeSymbol? Task { get; }
    public INamedTypeSymbol? TaskOfT { get; }
    public INamedTypeSymbol? ValueTask { get; }
    public INamedTypeSymbol? ValueTaskOfT { get; }
    public INamedTypeSymbol? AsyncEnumerable { get; }
    public INamedTypeSymbol? CancellationToken { get; }
    public INamedTypeSymbol? Guid { get; }
    public INamedTypeSymbol? Stream { get; }
    public INamedTypeSymbol? JsonPolymorphic { get; }
    public INamedTypeSymbol? JsonDerivedType { get; }
    public INamedTypeSymbol? JsonSerializerContext { get; }
    public INamedTypeSymbol? JsonSerializable { get; }
    public INamedTypeSymbol? JsonSourceGenerationOptions { get; }
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
