namespace WampContracts.Generator;

/// <summary>Tracking names of the pipeline's steps, shared with the incremental-caching tests.</summary>
internal static class StepNames
{
    public const string ParseService = nameof(ParseService);
    public const string ParseEvents = nameof(ParseEvents);
    public const string ParseError = nameof(ParseError);
    public const string ParseJsonContext = nameof(ParseJsonContext);
    public const string TypeScriptModule = nameof(TypeScriptModule);
}
