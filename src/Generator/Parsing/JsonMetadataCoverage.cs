using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace WampContracts.Generator.Parsing;

/// <summary>
/// Which types have source-generated JSON metadata in a compilation: those the runtime's own context carries, and those
/// the project's <c>JsonSerializerContext</c>s declare with <c>[JsonSerializable]</c>, with what System.Text.Json's
/// generator certainly generates for them (public properties, [JsonInclude] members, elements, keys and values,
/// derived types). A type outside this set could not be read or written once reflection is off (WAMP0021).
/// </summary>
/// <remarks>
/// The walk claims less than the JSON generator produces rather than more: a type it misses is reported and the user
/// names it in a [JsonSerializable], while a type it wrongly claimed would fail at run time.
/// </remarks>
internal sealed class JsonMetadataCoverage
{
    /// <summary>The types WampContracts' own context (WampRuntimeJsonContext) carries.</summary>
    private static readonly string[] RuntimeTypes = { "System.String", "System.Int64", "System.Int32", "System.Boolean", "System.Text.Json.JsonElement" };

    private readonly KnownSymbols _known;
    private readonly HashSet<ITypeSymbol> _covered = new(SymbolEqualityComparer.Default);

    public JsonMetadataCoverage(Compilation compilation, KnownSymbols known, IEnumerable<INamedTypeSymbol> contexts)
    {
        _known = known;
        foreach (string name in RuntimeTypes)
            if (compilation.GetTypeByMetadataName(name) is { } t) _covered.Add(t);
        foreach (string name in new[] { "System.String", "System.Int64" })
            if (compilation.GetTypeByMetadataName(name) is { } t) _covered.Add(compilation.CreateArrayTypeSymbol(t));
        foreach (var context in contexts)
        {
            // A context (or an entry) generated for serialization only has no metadata to read with.
            if (SerializationOnly(known.Find(context, known.JsonSourceGenerationOptions))) continue;
            foreach (var attribute in context.GetAttributes())
                if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, known.JsonSerializable) && !SerializationOnly(attribute)
                    && attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is ITypeSymbol root)
                    Add(root);
        }
    }

    /// <summary>A JsonSerializerContext the project declares: derived from it and given at least one [JsonSerializable].</summary>
    public static bool IsContext(INamedTypeSymbol type, KnownSymbols known)
    {
        if (known.JsonSerializerContext is null || known.JsonSerializable is null || type.IsAbstract) return false;
        bool derives = false;
        for (var t = type.BaseType; t is not null && !derives; t = t.BaseType)
            derives = SymbolEqualityComparer.Default.Equals(t, known.JsonSerializerContext);
        return derives && known.Find(type, known.JsonSerializable) is not null;
    }

    public bool Covers(ITypeSymbol type) => _covered.Contains(type);

    /// <summary>GenerationMode = JsonSourceGenerationMode.Serialization (2): a fast writer only, no metadata.</summary>
    private static bool SerializationOnly(AttributeData? attribute) =>
        attribute is not null && attribute.NamedArguments.Any(a => a.Key == "GenerationMode" && a.Value.Value is int mode && mode == 2);

    private void Add(ITypeSymbol type)
    {
        if (!_covered.Add(type)) return;
        switch (type)
        {
            case IArrayTypeSymbol array:
                Add(array.ElementType);
                return;
            case INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable:
                Add(nullable.TypeArguments[0]);
                return;
            case INamedTypeSymbol named:
                if (named.TypeKind == TypeKind.Enum || named.SpecialType != SpecialType.None) return;
                var collection = named.AllInterfaces.Add(named).FirstOrDefault(i => i.IsGenericType
                    && i.ContainingNamespace?.ToDisplayString() == "System.Collections.Generic"
                    && i.MetadataName is "IEnumerable`1" or "IDictionary`2" or "IReadOnlyDictionary`2");
                if (collection is not null)
                {
                    var dictionary = named.AllInterfaces.Add(named).FirstOrDefault(i => i.IsGenericType
                        && i.ContainingNamespace?.ToDisplayString() == "System.Collections.Generic"
                        && i.MetadataName is "IDictionary`2" or "IReadOnlyDictionary`2");
                    foreach (var argument in (dictionary ?? collection).TypeArguments) Add(argument);
                    return;
                }
                AddMembers(named);
                return;
        }
    }

    private void AddMembers(INamedTypeSymbol type)
    {
        foreach (var attribute in type.GetAttributes())
            if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, _known.JsonDerivedType)
                && attribute.ConstructorArguments.Length >= 1 && attribute.ConstructorArguments[0].Value is ITypeSymbol derived)
                Add(derived);
        for (var t = type; t is not null && t.SpecialType is not (SpecialType.System_Object or SpecialType.System_ValueType); t = t.BaseType)
        {
            foreach (var member in t.GetMembers())
            {
                bool included = _known.Find(member, _known.JsonInclude) is not null;
                bool ignored = _known.Find(member, _known.JsonIgnore) is { } ignore
                    && !ignore.NamedArguments.Any(a => a.Key == "Condition" && a.Value.Value is int condition && condition != 1);
                if (ignored || member.IsStatic) continue;
                switch (member)
                {
                    case IPropertySymbol { IsIndexer: false } property
                        when included || (property.DeclaredAccessibility == Accessibility.Public && property.GetMethod?.DeclaredAccessibility == Accessibility.Public):
                        Add(property.Type);
                        break;
                    case IFieldSymbol { IsConst: false } field when included:
                        Add(field.Type);
                        break;
                }
            }
        }
    }
}
