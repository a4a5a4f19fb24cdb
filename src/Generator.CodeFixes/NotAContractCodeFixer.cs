using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Simplification;
using WampContracts.Generator.Diagnostics;

namespace WampContracts.Generator.CodeFixes;

/// <summary>
/// WAMP0022: marks the interface passed to GetProxy&lt;T&gt; (or GetPublisher, RegisterAsync, SubscribeAsync) with
/// <c>[WampService("…")]</c> or <c>[WampEvents("…")]</c>, wherever it is declared; the analyzer suggests the prefix.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(NotAContractCodeFixer)), Shared]
public sealed class NotAContractCodeFixer : CodeFixProvider
{
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticDescriptors.NotAContractId);

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        foreach (var diagnostic in context.Diagnostics)
        {
            if (diagnostic.AdditionalLocations.FirstOrDefault() is not { SourceTree: { } tree } declaration) continue;
            if (!diagnostic.Properties.TryGetValue("Attribute", out var attribute) || attribute is null) continue;
            if (!diagnostic.Properties.TryGetValue("Prefix", out var prefix) || prefix is null) continue;
            var document = context.Document.Project.Solution.GetDocument(tree);
            if (document is null) continue;
            context.RegisterCodeFix(
                CodeAction.Create($"Add [{attribute}(\"{prefix}\")]", ct => AddAsync(document, declaration, attribute, prefix, ct), nameof(NotAContractCodeFixer)),
                diagnostic);
        }
        return Task.CompletedTask;
    }

    private static async Task<Solution> AddAsync(Document document, Location declaration, string attribute, string prefix, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root?.FindNode(declaration.SourceSpan).FirstAncestorOrSelf<InterfaceDeclarationSyntax>() is not { } type) return document.Project.Solution;
        var list = SyntaxFactory.AttributeList(SyntaxFactory.SingletonSeparatedList(
            SyntaxFactory.Attribute(SyntaxFactory.ParseName("global::WampContracts." + attribute).WithAdditionalAnnotations(Simplifier.Annotation))
                .WithArgumentList(SyntaxFactory.ParseAttributeArgumentList($"(\"{prefix}\")"))));
        // The attribute goes where the declaration starts, with its indentation, on a line of its own.
        var leading = type.GetLeadingTrivia();
        var endOfLine = root.DescendantTrivia().FirstOrDefault(t => t.IsKind(SyntaxKind.EndOfLineTrivia));
        var newLine = endOfLine.IsKind(SyntaxKind.EndOfLineTrivia) ? endOfLine : SyntaxFactory.EndOfLine("\n");
        var updated = type.WithoutLeadingTrivia().AddAttributeLists(list.WithLeadingTrivia(leading).WithTrailingTrivia(newLine));
        if (type.AttributeLists.Count == 0)
            updated = updated.WithModifiers(updated.Modifiers.Count > 0
                ? updated.Modifiers.Replace(updated.Modifiers[0], updated.Modifiers[0].WithLeadingTrivia(IndentOf(leading)))
                : updated.Modifiers);
        return document.WithSyntaxRoot(root.ReplaceNode(type, updated)).Project.Solution;
    }

    private static SyntaxTriviaList IndentOf(SyntaxTriviaList leading) =>
        leading.Count > 0 && leading[leading.Count - 1].IsKind(SyntaxKind.WhitespaceTrivia) ? SyntaxFactory.TriviaList(leading[leading.Count - 1]) : SyntaxFactory.TriviaList();
}
