using System.Collections.Immutable;
using System.Composition;
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
/// WAMP0002: makes the return type awaitable: <c>T</c> becomes <c>Task&lt;T&gt;</c>, <c>void</c> becomes <c>Task</c>; in a
/// <c>[WampEvents]</c> interface, which carries no answer, every return type becomes <c>Task</c>.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(ReturnTypeCodeFixer)), Shared]
public sealed class ReturnTypeCodeFixer : CodeFixProvider
{
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticDescriptors.UnsupportedReturnTypeId);

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root?.FindNode(context.Span).FirstAncestorOrSelf<MethodDeclarationSyntax>() is not { } method) return;
        var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        bool events = false;
        if (model?.GetDeclaredSymbol(method, context.CancellationToken)?.ContainingType is { } contract)
            foreach (var attribute in contract.GetAttributes())
                events |= attribute.AttributeClass?.ToDisplayString() == "WampContracts.WampEventsAttribute";
        bool nothing = events || method.ReturnType is PredefinedTypeSyntax { Keyword.RawKind: (int)SyntaxKind.VoidKeyword };
        string title = nothing ? "Return Task" : $"Return Task<{method.ReturnType}>";
        context.RegisterCodeFix(CodeAction.Create(title, ct => FixAsync(context.Document, root, method, nothing, ct), nameof(ReturnTypeCodeFixer)), context.Diagnostics);
    }

    private static Task<Document> FixAsync(Document document, SyntaxNode root, MethodDeclarationSyntax method, bool nothing, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var type = nothing
            ? SyntaxFactory.ParseTypeName("global::System.Threading.Tasks.Task")
            : SyntaxFactory.ParseTypeName($"global::System.Threading.Tasks.Task<{method.ReturnType.WithoutTrivia()}>");
        var updated = method.WithReturnType(type.WithAdditionalAnnotations(Simplifier.Annotation).WithTriviaFrom(method.ReturnType));
        return Task.FromResult(document.WithSyntaxRoot(root.ReplaceNode(method, updated)));
    }
}
