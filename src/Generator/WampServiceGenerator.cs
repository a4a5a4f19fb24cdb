using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using WampContracts.Generator.Emitting;
using WampContracts.Generator.Model;
using WampContracts.Generator.Parsing;

namespace WampContracts.Generator;

/// <summary>
/// Turns <c>[WampService]</c> interfaces into caller proxies and callee stubs, <c>[WampEvents]</c> interfaces into
/// publishers and subscribers, and <c>[WampError]</c> exceptions into error mappings. Problems are reported by
/// <see cref="Analyzers.WampContractAnalyzer"/>; the generator leaves out what it reports.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class WampServiceGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        // 1. Parse: each [WampService] interface becomes a ServiceSpec; the only step that sees symbols.
        var services = context.SyntaxProvider
            .ForAttributeWithMetadataName(KnownSymbols.WampServiceAttribute,
                static (node, _) => node is InterfaceDeclarationSyntax,
                static (ctx, ct) => ServiceParser.Parse(ctx, ContractKind.Service, ct))
            .WithTrackingName(StepNames.ParseService)
            .Where(static spec => spec is not null);

        // 2. Parse: each [WampEvents] interface becomes a ServiceSpec of topics.
        var events = context.SyntaxProvider
            .ForAttributeWithMetadataName(KnownSymbols.WampEventsAttribute,
                static (node, _) => node is InterfaceDeclarationSyntax,
                static (ctx, ct) => ServiceParser.Parse(ctx, ContractKind.Events, ct))
            .WithTrackingName(StepNames.ParseEvents)
            .Where(static spec => spec is not null);

        // 3. Parse: each [WampError] exception becomes an ErrorSpec.
        var errors = context.SyntaxProvider
            .ForAttributeWithMetadataName(KnownSymbols.WampErrorAttribute,
                static (node, _) => node is ClassDeclarationSyntax,
                static (ctx, ct) => ServiceParser.ParseError(ctx, ct))
            .WithTrackingName(StepNames.ParseError)
            .Where(static spec => spec is not null);

        // 4. Parse: each JsonSerializerContext of the project, whose metadata the runtime's default options then use,
        //    so contract types need no reflection (trimming, Native AOT; WAMP0021 reports a type none covers).
        var jsonContexts = context.SyntaxProvider
            .ForAttributeWithMetadataName(KnownSymbols.JsonSerializableAttribute,
                static (node, _) => node is ClassDeclarationSyntax,
                static (ctx, ct) => ServiceParser.ParseJsonContext(ctx, ct))
            .WithTrackingName(StepNames.ParseJsonContext)
            .Where(static spec => spec is not null);

        // 5. Emit from the specs only.
        context.RegisterSourceOutput(services, static (spc, spec) => ContractEmitter.Emit(spc, spec!));
        context.RegisterSourceOutput(events, static (spc, spec) => ContractEmitter.Emit(spc, spec!));
        context.RegisterSourceOutput(errors, static (spc, spec) => ContractEmitter.EmitError(spc, spec!));
        context.RegisterSourceOutput(jsonContexts, static (spc, spec) => ContractEmitter.EmitJsonContext(spc, spec!));

        // 6. TypeScript peers, only for a project that sets WampTypeScriptOutput (the targets define WAMPCONTRACTS_TYPESCRIPT):
        //    the same specs, gathered into one module whose text travels in the assembly for the build to write out.
        var moduleName = context.ParseOptionsProvider.Select(static (o, _) => TypeScriptOptions.Defines(o))
            .Combine(context.AnalyzerConfigOptionsProvider)
            .Combine(context.CompilationProvider.Select(static (c, _) => c.AssemblyName ?? ""))
            .Select(static (x, _) => TypeScriptOptions.ModuleName(x.Left.Left, x.Left.Right.GlobalOptions, x.Right));
        var module = services.Collect()
            .Combine(events.Collect())
            .Combine(errors.Collect())
            .Combine(moduleName)
            .Select(static (all, _) => TypeScriptOptions.Gather(all.Right, all.Left.Left.Left, all.Left.Left.Right, all.Left.Right))
            .WithTrackingName(StepNames.TypeScriptModule);
        context.RegisterSourceOutput(module, static (spc, spec) => { if (spec is not null) TypeScriptEmitter.Emit(spc, spec); });
    }
}
