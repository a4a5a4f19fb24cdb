using System.Linq;
using Microsoft.CodeAnalysis;

namespace WampContracts.Generator.Parsing;

/// <summary>Explicit, throwing implementations of contract members the generator cannot turn into WAMP calls.</summary>
internal static class SkippedStubs
{
    private static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    private const string Throw = "throw new global::System.NotSupportedException(\"not part of the WAMP contract\")";

    public static string For(INamedTypeSymbol contract, IMethodSymbol method)
    {
        string typeParameters = method.TypeParameters.Length == 0 ? "" : "<" + string.Join(", ", method.TypeParameters.Select(t => t.Name)) + ">";
        string parameters = string.Join(", ", method.Parameters.Select(p => Modifier(p) + p.Type.ToDisplayString(TypeFormat) + " @" + p.Name));
        string returnType = method.ReturnsVoid ? "void" : (method.RefKind == RefKind.Ref ? "ref " : "") + method.ReturnType.ToDisplayString(TypeFormat);
        return $"{returnType} {Name(contract)}.{method.Name}{typeParameters}({parameters}) => {Throw};";
    }

    public static string For(INamedTypeSymbol contract, IPropertySymbol property)
    {
        string accessors = (property.GetMethod is null ? "" : $"get => {Throw}; ") + (property.SetMethod is null ? "" : $"{(property.SetMethod.IsInitOnly ? "init" : "set")} => {Throw}; ");
        string name = property.IsIndexer
            ? "this[" + string.Join(", ", property.Parameters.Select(p => p.Type.ToDisplayString(TypeFormat) + " @" + p.Name)) + "]"
            : property.Name;
        return $"{property.Type.ToDisplayString(TypeFormat)} {Name(contract)}.{name} {{ {accessors}}}";
    }

    public static string For(INamedTypeSymbol contract, IEventSymbol @event) =>
        $"event {@event.Type.ToDisplayString(TypeFormat)} {Name(contract)}.{@event.Name} {{ add => {Throw}; remove => {Throw}; }}";

    private static string Name(INamedTypeSymbol contract) => contract.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);

    private static string Modifier(IParameterSymbol p) => p.RefKind switch
    {
        RefKind.Ref => "ref ",
        RefKind.Out => "out ",
        RefKind.In => "in ",
        RefKind.RefReadOnlyParameter => "ref readonly ",
        _ => p.IsParams ? "params " : "",
    };
}
