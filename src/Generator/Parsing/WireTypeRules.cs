using Microsoft.CodeAnalysis;

namespace WampContracts.Generator.Parsing;

/// <summary>
/// Which parameter and result types a WAMP message (JSON, through System.Text.Json) cannot carry faithfully: what arrives
/// would not be what was sent, or nothing could be read at all. Checked in the declared type, its element types and its
/// type arguments (WAMP0020).
/// </summary>
internal static class WireTypeRules
{
    /// <summary>Why <paramref name="type"/> cannot travel, and what to use instead; null when it can.</summary>
    public static string? Problem(ITypeSymbol type, KnownSymbols known)
    {
        switch (type)
        {
            case IPointerTypeSymbol or IFunctionPointerTypeSymbol:
                return $"'{type.ToDisplayString()}' is a pointer, an address that means nothing to another process; pass the value it points to";
            case IArrayTypeSymbol array:
                return Problem(array.ElementType, known);
            case IDynamicTypeSymbol:
            case { SpecialType: SpecialType.System_Object }:
                return $"'{type.ToDisplayString()}' holds any value and is read back as a JsonElement, not as the type that was sent; use a concrete type, or JsonElement to carry any JSON";
            case INamedTypeSymbol { IsTupleType: true }:
                return $"a value tuple such as '{type.ToDisplayString()}' is written as {{}} and read back as default values; declare a record with named properties instead";
            case INamedTypeSymbol { TypeKind: TypeKind.Delegate }:
                return $"'{type.ToDisplayString()}' is a delegate, code that cannot travel in a message; pass the data it works on, or declare a procedure for what it does";
            case INamedTypeSymbol named:
                if (IsStream(named, known))
                    return $"'{type.ToDisplayString()}' is a stream, which a JSON message cannot hold; pass byte[] (WAMP binary), or return IAsyncEnumerable<byte[]> to send it in chunks";
                if (named.TypeKind == TypeKind.Interface && !IsKnownCollection(named) && !HasKnownSerialization(named, known))
                    return $"'{type.ToDisplayString()}' is an interface, which System.Text.Json cannot create when it reads one; use a concrete type, or mark the interface [JsonPolymorphic] with a [JsonDerivedType] for each implementation";
                foreach (var argument in named.TypeArguments)
                    if (Problem(argument, known) is { } inner) return inner;
                return null;
            default:
                return null;
        }
    }

    private static bool IsStream(INamedTypeSymbol type, KnownSymbols known)
    {
        for (INamedTypeSymbol? t = type; t is not null; t = t.BaseType)
            if (SymbolEqualityComparer.Default.Equals(t, known.Stream)) return true;
        return false;
    }

    /// <summary>The collection interfaces System.Text.Json reads into a list, set or dictionary of its choosing.</summary>
    private static bool IsKnownCollection(INamedTypeSymbol type) =>
        type.IsGenericType
        && type.ContainingNamespace?.ToDisplayString() == "System.Collections.Generic"
        && type.MetadataName is "IEnumerable`1" or "ICollection`1" or "IList`1" or "IReadOnlyCollection`1" or "IReadOnlyList`1"
            or "ISet`1" or "IReadOnlySet`1" or "IDictionary`2" or "IReadOnlyDictionary`2";

    /// <summary>An interface that says how it is read: [JsonPolymorphic], [JsonDerivedType] or its own [JsonConverter].</summary>
    private static bool HasKnownSerialization(INamedTypeSymbol type, KnownSymbols known) =>
        known.Find(type, known.JsonPolymorphic) is not null
        || known.Find(type, known.JsonDerivedType) is not null
        || known.Find(type, known.JsonConverter) is not null;
}
