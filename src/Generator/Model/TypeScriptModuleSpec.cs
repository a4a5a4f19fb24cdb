namespace WampContracts.Generator.Model;

/// <summary>
/// The TypeScript module of one compilation: every contract and error of it, for the build to write out when the
/// project opts in (<c>WampTypeScriptOutput</c>). Like every spec, it holds no symbol.
/// </summary>
internal sealed record TypeScriptModuleSpec(
    string Module,                              // file name without extension, e.g. "conferences"
    EquatableArray<ServiceSpec> Contracts,      // services and events, ordered by metadata name
    EquatableArray<ErrorSpec> Errors);          // ordered by URI
