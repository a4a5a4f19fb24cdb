namespace WampContracts.Generator.Model;

/// <summary>What a value is once System.Text.Json has written it, as far as a peer in another language needs to know.</summary>
internal enum WireKind
{
    Unknown,        // object, JsonElement, JsonNode: any JSON
    Boolean,
    Number,         // every integer and floating-point type, and decimal
    String,         // string, char, Guid, dates and times, TimeSpan, Uri, Version
    Binary,         // byte[]: WAMP's JSON binary string, "\u0000" + Base64
    List,           // arrays and IEnumerable<T>: Arguments[0] is the item
    Map,            // dictionaries: Arguments[0] is the value (keys are strings in JSON)
    Object,         // a record, class or struct: Name is its TypeShapeSpec.Key, Arguments its type arguments
    Enum,           // Name is its TypeShapeSpec.Key
    TypeParameter,  // inside a generic type's shape: Name is the parameter
}

/// <summary>A type as JSON carries it: symbol-free, so TypeScript (or any other peer) can be written from it.</summary>
internal sealed record WireTypeSpec(WireKind Kind, bool Nullable, string? Name, EquatableArray<WireTypeSpec> Arguments)
{
    public static WireTypeSpec Of(WireKind kind, bool nullable = false) => new(kind, nullable, null, EquatableArray<WireTypeSpec>.Empty);
}

/// <summary>
/// A record, class, struct or enum that a contract carries, with the JSON names the runtime's serializer uses
/// (camelCase unless <c>[JsonPropertyName]</c> says otherwise).
/// </summary>
internal sealed record TypeShapeSpec(
    string Key,                                 // metadata name of the (generic) definition, e.g. MyApp.Page`1
    string Name,                                // the type's name, nesting joined by '_', without arity
    bool IsEnum,
    bool EnumAsStrings,                         // [JsonConverter(typeof(JsonStringEnumConverter))]: names, not numbers
    EquatableArray<string> TypeParameters,
    EquatableArray<PropertyShapeSpec> Properties,
    EquatableArray<EnumMemberSpec> Members);

/// <summary>One serialized property: its JSON name and type.</summary>
internal sealed record PropertyShapeSpec(string JsonName, WireTypeSpec Type);

/// <summary>One enum member: its name and the JSON literal the runtime writes for it (a number, or a quoted name).</summary>
internal sealed record EnumMemberSpec(string Name, string Json);
