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

/// <summary>WAMP0023: adds <c>CancellationToken cancellationToken = default</c> as the method's last parameter.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MissingCancellationTokenCodeFixer)), Shared]
public sealed class MissingCancellationTokenCodeFixer : CodeFixProvider
{
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticDescriptors.MissingCancellationTokenId);

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root?.FindNode(context.Span).FirstAncestorOrSelf<MethodDeclarationSyntax>() is not { } method) return;
        context.RegisterCodeFix(
            CodeAction.Create("Add a CancellationToken parameter", ct => AddAsync(context.Document, root, method, ct), nameof(MissingCancellationTokenCodeFixer)),
            context.Diagnostics);
    }

    private static Task<Document> AddAsync(Document document, SyntaxNode root, MethodDeclarationSyntax method, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        string name = "cancellationToken";
        for (int i = 2; method.ParameterList.Parameters.Any(p => p.Identifier.ValueText == name); i++) name = "cancellationToken" + i;
        var parameter = SyntaxFactory.Parameter(SyntaxFactory.Identifier(name))
            .WithType(SyntaxFactory.ParseTypeName("global::System.Threading.CancellationToken").WithAdditionalAnnotations(Simplifier.Annotation))
            .WithDefault(SyntaxFactory.EqualsValueClause(SyntaxFactory.LiteralExpression(SyntaxKind.DefaultLiteralExpression)));
        var updated = method.WithParameterList(method.ParameterList.AddParameters(parameter));
        return Task.FromResult(document.WithSyntaxRoot(root.ReplaceNode(method, updated)));
    }
}
