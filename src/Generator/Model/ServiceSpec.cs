namespace WampContracts.Generator.Model;

/// <summary>Whether an interface is a service (procedures) or an events contract (topics).</summary>
internal enum ContractKind
{
    Service,
    Events,
}

/// <summary>How a contract method returns.</summary>
internal enum ReturnKind
{
    Task,
    TaskOfT,
    ValueTask,
    ValueTaskOfT,
    AsyncEnumerable,
}

/// <summary>
/// Whether a method is safe to repeat, and what that takes; the same names as the runtime's
/// <c>WampContracts.WampIdempotencyLevel</c>, which the emitter writes out.
/// </summary>
internal enum IdempotencyLevel
{
    Unknown,        // one attempt, unless keyed
    Idempotent,     // [Idempotent]: keyed, deduplicated by the callee, retried
    NoSideEffects,  // [NoSideEffects]: retried, no key, nothing stored
}

/// <summary>
/// One contract interface, as the emitter needs it.
/// </summary>
/// <remarks>
/// Specs are the contract between the parser and the emitter: they hold only strings, enums, booleans and
/// <see cref="EquatableArray{T}"/> of other specs, never a symbol, syntax node, location or compilation, so the
/// incremental pipeline can compare them by value and cache everything downstream.
/// </remarks>
internal sealed record ServiceSpec(
    ContractKind Kind,
    string FullName,            // global::-qualified interface name
    string MetadataName,        // for hint names and descriptors, e.g. MyApp.IConferences
    string SimpleName,          // IConferences
    bool IsPublic,
    EquatableArray<ProcedureSpec> Procedures,
    EquatableArray<SkippedMemberSpec> Skipped,
    EquatableArray<TypeShapeSpec> Types);    // the records, classes and enums its methods carry, for TypeScript peers (else empty)

/// <summary>One method of a contract.</summary>
internal sealed record ProcedureSpec(
    string Name,
    string Uri,
    ReturnKind ReturnKind,
    string? ResultType,         // global::-qualified; null for Task/ValueTask
    EquatableArray<ParameterSpec> Parameters,
    int TimeoutMilliseconds,    // 0: none
    IdempotencyLevel Idempotency,
    int IdempotencyKeyParameter,
    int RetryAttempts,          // 0: the session's policy
    string Signature,           // the parameter list as declared, for ordering and diagnostics
    WireTypeSpec? ResultWire);  // the result as JSON carries it; null for Task/ValueTask, or without TypeScript peers

/// <summary>One parameter of a contract method.</summary>
internal sealed record ParameterSpec(
    string Name,
    string Type,                // global::-qualified, with nullable annotation
    ParameterRole Role,
    int WireIndex,              // position among the wire arguments; -1 for token and key
    bool Optional,              // missing on the wire is fine (a default value or a nullable type)
    string? DefaultValue,       // C# expression of the default, or null for default!
    WireTypeSpec? Wire,         // the value as JSON carries it; null unless the project asks for TypeScript peers
    string? DefaultJson);       // the explicit default as a JSON literal (what a caller that leaves it out sends); null: none

internal enum ParameterRole
{
    Argument,
    CancellationToken,
    IdempotencyKeyString,
    IdempotencyKeyGuid,
}

/// <summary>
/// A member the generator left out because the analyzer reports it. <see cref="Stub"/> is the explicit implementation
/// the proxy declares for it (throwing), so that the only errors a user sees are the analyzer's.
/// </summary>
internal sealed record SkippedMemberSpec(string Name, string DiagnosticId, string Stub);

/// <summary>A [WampError] exception type, the data it carries, and how to re-create it.</summary>
internal sealed record ErrorSpec(
    string FullName,
    string MetadataName,
    string Uri,
    bool FromPayload,                               // rebuilt by its WampPayload constructor (else by Arguments, else parameterless)
    EquatableArray<ErrorPropertySpec> Properties,   // written as keyword arguments, in declaration order
    EquatableArray<string> Arguments);              // the data constructor's parameters, as property names; empty: none

/// <summary>One property of a [WampError] exception: its name, keyword-argument name (camelCase) and global::-qualified type.</summary>
internal sealed record ErrorPropertySpec(string Name, string JsonName, string Type);

/// <summary>A JsonSerializerContext of the project, registered with the runtime so its metadata serves contract types.</summary>
internal sealed record JsonContextSpec(string FullName, string MetadataName);
