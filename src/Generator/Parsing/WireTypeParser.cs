using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using WampContracts.Generator.Model;

namespace WampContracts.Generator.Parsing;

/// <summary>
/// Part of the parse step: describes what System.Text.Json writes for a contract's parameter and result types
/// (with the runtime's defaults: camelCase names, enums as numbers unless the enum asks for its names), and collects the
/// records, classes and enums reached on the way as <see cref="TypeShapeSpec"/>s.
/// </summary>
internal sealed class WireTypeParser
{
    private readonly KnownSymbols _known;
    private readonly CancellationToken _cancellationToken;
    // IMPORTANT: a key is added before its properties are walked (null while in progress), so a type that refers to
    // itself ends the walk instead of recursing forever.
    private readonly Dictionary<string, TypeShapeSpec?> _shapes = new(StringComparer.Ordinal);

    public WireTypeParser(KnownSymbols known, CancellationToken cancellationToken)
    {
        _known = known;
        _cancellationToken = cancellationToken;
    }

    /// <summary>Every type shape reached so far, ordered by key.</summary>
    public EquatableArray<TypeShapeSpec> Shapes =>
        _shapes.Values.Where(s => s is not null).Select(s => s!).OrderBy(s => s.Key, StringComparer.Ordinal).ToEquatableArray();

    public WireTypeSpec Parse(ITypeSymbol type)
    {
        _cancellationToken.ThrowIfCancellationRequested();
        bool nullable = type.NullableAnnotation == NullableAnnotation.Annotated;
        if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullableValue)
            return Parse(nullableValue.TypeArguments[0]) with { Nullable = true };
        if (type is ITypeParameterSymbol parameter)
            return new WireTypeSpec(WireKind.TypeParameter, nullable, parameter.Name, EquatableArray<WireTypeSpec>.Empty);

        switch (type.SpecialType)
        {
            case SpecialType.System_Boolean:
                return WireTypeSpec.Of(WireKind.Boolean, nullable);
            case SpecialType.System_Char:
            case SpecialType.System_String:
                return WireTypeSpec.Of(WireKind.String, nullable);
            case SpecialType.System_SByte:
            case SpecialType.System_Byte:
            case SpecialType.System_Int16:
            case SpecialType.System_UInt16:
            case SpecialType.System_Int32:
            case SpecialType.System_UInt32:
            case SpecialType.System_Int64:
            case SpecialType.System_UInt64:
            case SpecialType.System_Single:
            case SpecialType.System_Double:
            case SpecialType.System_Decimal:
                return WireTypeSpec.Of(WireKind.Number, nullable);
            case SpecialType.System_Object:
                return WireTypeSpec.Of(WireKind.Unknown, nullable);
        }

        if (type is IArrayTypeSymbol array)
        {
            if (array.Rank == 1 && array.ElementType.SpecialType == SpecialType.System_Byte) return WireTypeSpec.Of(WireKind.Binary, nullable);
            return new WireTypeSpec(WireKind.List, nullable, null, new[] { Parse(array.ElementType) }.ToEquatableArray());
        }
        if (type is not INamedTypeSymbol named) return WireTypeSpec.Of(WireKind.Unknown, nullable);

        if (named.TypeKind == TypeKind.Enum)
            return new WireTypeSpec(WireKind.Enum, nullable, ShapeOfEnum(named), EquatableArray<WireTypeSpec>.Empty);
        if (_known.StringLike.Contains(named)) return WireTypeSpec.Of(WireKind.String, nullable);
        // Memory<byte> and ReadOnlyMemory<byte> travel like byte[]: binary (a "\u0000" + Base64 string in JSON).
        if (named.ContainingNamespace?.ToDisplayString() == "System" && named.Name is "Memory" or "ReadOnlyMemory" &&
            named.TypeArguments.Length == 1 && named.TypeArguments[0].SpecialType == SpecialType.System_Byte)
            return WireTypeSpec.Of(WireKind.Binary, nullable);
        if (IsAnyJson(named)) return WireTypeSpec.Of(WireKind.Unknown, nullable);
        if (named.ContainingNamespace?.ToDisplayString() == "System" && named.Name is "Int128" or "UInt128" or "Half")
            return WireTypeSpec.Of(WireKind.Number, nullable);

        var dictionary = FindGeneric(named, _known.Dictionary) ?? FindGeneric(named, _known.ReadOnlyDictionary);
        if (dictionary is not null)
            return new WireTypeSpec(WireKind.Map, nullable, null, new[] { Parse(dictionary.TypeArguments[1]) }.ToEquatableArray());
        if (FindGeneric(named, _known.Enumerable) is { } enumerable)
            return new WireTypeSpec(WireKind.List, nullable, null, new[] { Parse(enumerable.TypeArguments[0]) }.ToEquatableArray());

        string key = ShapeOfObject(named.OriginalDefinition);
        var arguments = named.TypeArguments.Select(Parse).ToEquatableArray();
        return new WireTypeSpec(WireKind.Object, nullable, key, arguments);
    }

    private bool IsAnyJson(INamedTypeSymbol type)
    {
        for (var t = type; t is not null; t = t.BaseType)
            if (_known.AnyJson.Contains(t)) return true;
        return false;
    }

    /// <summary>The type itself or the interface it implements that is a construction of <paramref name="definition"/>.</summary>
    private static INamedTypeSymbol? FindGeneric(INamedTypeSymbol type, INamedTypeSymbol? definition)
    {
        if (definition is null) return null;
        if (SymbolEqualityComparer.Default.Equals(type.OriginalDefinition, definition)) return type;
        foreach (var i in type.AllInterfaces)
            if (SymbolEqualityComparer.Default.Equals(i.OriginalDefinition, definition)) return i;
        return null;
    }

    private string ShapeOfEnum(INamedTypeSymbol type)
    {
        string key = Key(type);
        if (_shapes.ContainsKey(key)) return key;
        bool asStrings = HasStringEnumConverter(type);
        var members = new List<EnumMemberSpec>();
        foreach (var field in type.GetMembers().OfType<IFieldSymbol>())
        {
            if (!field.HasConstantValue || field.ConstantValue is null) continue;
            string json = asStrings
                ? Quote(NamedArgument(_known.Find(field, _known.JsonStringEnumMemberName)) ?? field.Name)
                : Convert.ToString(field.ConstantValue, CultureInfo.InvariantCulture)!;
            members.Add(new EnumMemberSpec(field.Name, json));
        }
        _shapes[key] = new TypeShapeSpec(key, Name(type), true, asStrings, EquatableArray<string>.Empty, EquatableArray<PropertyShapeSpec>.Empty, members.ToEquatableArray());
        return key;
    }

    private string ShapeOfObject(INamedTypeSymbol definition)
    {
        string key = Key(definition);
        if (_shapes.ContainsKey(key)) return key;
        _shapes[key] = null;
        var properties = new List<PropertyShapeSpec>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        // Most derived first, as the serializer's reflection walk meets them; an override or 'new' hides the base member.
        for (var t = definition; t is not null && t.SpecialType is not (SpecialType.System_Object or SpecialType.System_ValueType); t = t.BaseType)
        {
            foreach (var member in t.GetMembers())
            {
                _cancellationToken.ThrowIfCancellationRequested();
                ITypeSymbol? memberType = member switch
                {
                    IPropertySymbol { IsStatic: false, IsIndexer: false, DeclaredAccessibility: Accessibility.Public, GetMethod.DeclaredAccessibility: Accessibility.Public } p => p.Type,
                    IFieldSymbol { IsStatic: false, IsConst: false, DeclaredAccessibility: Accessibility.Public } f when _known.Find(f, _known.JsonInclude) is not null => f.Type,
                    _ => null,
                };
                if (memberType is null || !seen.Add(member.Name)) continue;
                var (ignored, jsonName) = JsonAttributes(member);
                if (ignored) continue;
                jsonName ??= CamelCase(member.Name);
                properties.Add(new PropertyShapeSpec(jsonName, Parse(memberType)));
            }
        }
        var typeParameters = definition.TypeParameters.Select(p => p.Name).ToEquatableArray();
        _shapes[key] = new TypeShapeSpec(key, Name(definition), false, false, typeParameters, properties.ToEquatableArray(), EquatableArray<EnumMemberSpec>.Empty);
        return key;
    }

    /// <summary>
    /// What a member's attributes say, read in one pass: [JsonIgnore] leaves it out unless its Condition writes it in some
    /// cases; [JsonPropertyName] renames it.
    /// </summary>
    private (bool Ignored, string? JsonName) JsonAttributes(ISymbol member)
    {
        bool ignored = false;
        string? jsonName = null;
        foreach (var attribute in member.GetAttributes())
        {
            if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, _known.JsonPropertyName))
            {
                jsonName = NamedArgument(attribute);
            }
            else if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, _known.JsonIgnore))
            {
                ignored = true;
                foreach (var named in attribute.NamedArguments)
                    if (named.Key == "Condition" && named.Value.Value is int condition) ignored = condition == 1; // JsonIgnoreCondition.Always
            }
        }
        return (ignored, jsonName);
    }

    private bool HasStringEnumConverter(INamedTypeSymbol type)
    {
        var converter = _known.Find(type, _known.JsonConverter);
        if (converter is not { ConstructorArguments.Length: 1 } || converter.ConstructorArguments[0].Value is not INamedTypeSymbol converterType) return false;
        return SymbolEqualityComparer.Default.Equals(converterType, _known.JsonStringEnumConverter)
            || SymbolEqualityComparer.Default.Equals(converterType.OriginalDefinition, _known.JsonStringEnumConverterOfT);
    }

    private static string? NamedArgument(AttributeData? attribute) =>
        attribute is { ConstructorArguments.Length: 1 } && attribute.ConstructorArguments[0].Value is string s ? s : null;

    /// <summary>A stable key: namespace, nesting ('+') and metadata name (with arity).</summary>
    private static string Key(INamedTypeSymbol type)
    {
        string ns = type.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() + "." : "";
        string nesting = "";
        for (var t = type.ContainingType; t is not null; t = t.ContainingType) nesting = t.MetadataName + "+" + nesting;
        return ns + nesting + type.MetadataName;
    }

    /// <summary>The name a peer sees: nesting joined by '_', no arity.</summary>
    private static string Name(INamedTypeSymbol type)
    {
        string name = type.Name;
        for (var t = type.ContainingType; t is not null; t = t.ContainingType) name = t.Name + "_" + name;
        return name;
    }

    /// <summary>System.Text.Json's camelCase policy (JsonNamingPolicy.CamelCase), so names match what the runtime writes.</summary>
    public static string CamelCase(string name)
    {
        if (string.IsNullOrEmpty(name) || !char.IsUpper(name[0])) return name;
        char[] chars = name.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
        {
            if (i == 1 && !char.IsUpper(chars[i])) break;
            bool hasNext = i + 1 < chars.Length;
            // Stop when the next character is already lowercase.
            if (i > 0 && hasNext && !char.IsUpper(chars[i + 1]))
            {
                // A space next: lowercase this one before stopping.
                if (chars[i + 1] == ' ') chars[i] = char.ToLowerInvariant(chars[i]);
                break;
            }
            chars[i] = char.ToLowerInvariant(chars[i]);
        }
        return new string(chars);
    }

    /// <summary>
    /// The JSON literal of a parameter's explicit default value, which a caller that leaves the parameter out sends in its
    /// place (the .NET proxy always sends every argument); null when there is none or it has no simple JSON form.
    /// </summary>
    public string? DefaultJson(IParameterSymbol parameter)
    {
        if (!parameter.HasExplicitDefaultValue) return null;
        var type = parameter.Type;
        object? value = parameter.ExplicitDefaultValue;
        if (value is null)
            return type.IsReferenceType || type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } ? "null" : null;
        var underlying = type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } n ? n.TypeArguments[0] : type;
        if (underlying is INamedTypeSymbol { TypeKind: TypeKind.Enum } enumType && HasStringEnumConverter(enumType))
        {
            var member = enumType.GetMembers().OfType<IFieldSymbol>().FirstOrDefault(f => f.HasConstantValue && Equals(f.ConstantValue, value));
            return member is null ? null : Quote(NamedArgument(_known.Find(member, _known.JsonStringEnumMemberName)) ?? member.Name);
        }
        return value switch
        {
            bool b => b ? "true" : "false",
            string s => Quote(s),
            char c => Quote(c.ToString()),
            double d => double.IsNaN(d) || double.IsInfinity(d) ? null : d.ToString("R", CultureInfo.InvariantCulture),
            float f => float.IsNaN(f) || float.IsInfinity(f) ? null : f.ToString("R", CultureInfo.InvariantCulture),
            IFormattable number => number.ToString(null, CultureInfo.InvariantCulture),
            _ => null,
        };
    }

    /// <summary>A JSON (and JavaScript) string literal.</summary>
    public static string Quote(string s)
    {
        var sb = new StringBuilder(s.Length + 2).Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    // Control characters, and the two line separators JavaScript source does not allow in a literal.
                    if (c < ' ' || c == '\u2028' || c == '\u2029') sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }
}
