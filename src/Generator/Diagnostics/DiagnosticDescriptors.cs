using Microsoft.CodeAnalysis;

namespace WampContracts.Generator.Diagnostics;

/// <summary>
/// Every diagnostic of the WampContracts analyzer. IDs are never reused; each has a row in AnalyzerReleases.*.md
/// and a section in docs/contracts.md.
/// </summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "WampContracts";
    /// <summary>Where each diagnostic is explained: a heading "WAMPnnnn: Title" of docs/contracts.md, whose anchor the link names.</summary>
    public const string HelpBase = "https://github.com/wampcontracts/wampcontracts/blob/main/docs/contracts.md#";

    public const string NotAnInterfaceId = "WAMP0001";
    public const string UnsupportedReturnTypeId = "WAMP0002";
    public const string UnsupportedParameterId = "WAMP0003";
    public const string GenericMethodId = "WAMP0004";
    public const string CancellationTokenNotLastId = "WAMP0005";
    public const string DuplicateUriId = "WAMP0006";
    public const string DuplicateUriAcrossContractsId = "WAMP0007";
    public const string InvalidUriId = "WAMP0008";
    public const string ReservedUriId = "WAMP0009";
    public const string UnsupportedMemberId = "WAMP0010";
    public const string MultipleIdempotencyKeysId = "WAMP0011";
    public const string IdempotencyKeyTypeId = "WAMP0012";
    public const string InvalidTimeoutId = "WAMP0013";
    public const string GenericContractId = "WAMP0014";
    public const string ErrorTypeNotWampExceptionId = "WAMP0015";
    public const string ErrorTypeConstructorId = "WAMP0016";
    public const string InaccessibleContractId = "WAMP0017";
    public const string RetryNotSafeId = "WAMP0018";
    public const string NoSideEffectsDeduplicatedId = "WAMP0019";
    public const string UnsupportedWireTypeId = "WAMP0020";
    public const string MissingJsonMetadataId = "WAMP0021";
    public const string NotAContractId = "WAMP0022";
    public const string MissingCancellationTokenId = "WAMP0023";

    /// <summary>"[{0}] is on '{1}', which is not an interface; put it on an interface"</summary>
    public static readonly DiagnosticDescriptor NotAnInterface = Rule(NotAnInterfaceId, "Contract attribute on a non-interface",
        "[{0}] is on '{1}', which is not an interface; declare the contract as an interface");

    /// <summary>"Procedure '{0}' returns '{1}'; return {2}"</summary>
    public static readonly DiagnosticDescriptor UnsupportedReturnType = Rule(UnsupportedReturnTypeId, "Unsupported return type",
        "'{0}' returns '{1}'; return {2}");

    /// <summary>"Parameter '{0}' of '{1}' is {2}; contract parameters are passed by value"</summary>
    public static readonly DiagnosticDescriptor UnsupportedParameter = Rule(UnsupportedParameterId, "Unsupported parameter modifier",
        "Parameter '{0}' of '{1}' is declared '{2}'; remove the modifier: contract parameters are passed by value");

    /// <summary>"'{0}' is generic; contract methods cannot have type parameters"</summary>
    public static readonly DiagnosticDescriptor GenericMethod = Rule(GenericMethodId, "Generic contract method",
        "'{0}' is generic; remove its type parameters: a WAMP procedure has one fixed signature");

    /// <summary>"'{0}' has CancellationToken at position {1}; move it to the last parameter"</summary>
    public static readonly DiagnosticDescriptor CancellationTokenNotLast = Rule(CancellationTokenNotLastId, "CancellationToken is not the last parameter",
        "'{0}' has a CancellationToken at position {1}; make one CancellationToken the last parameter");

    /// <summary>"'{0}' and '{1}' both map to '{2}'; give one of them another name with [WampProcedure] or [WampTopic]"</summary>
    public static readonly DiagnosticDescriptor DuplicateUri = Rule(DuplicateUriId, "Two methods map to the same URI",
        "'{0}' and '{1}' both map to '{2}'; give one of them another name with [WampProcedure] or [WampTopic]");

    /// <summary>"'{0}' maps to '{1}', which '{2}' also uses; contracts in one compilation need distinct URIs"</summary>
    public static readonly DiagnosticDescriptor DuplicateUriAcrossContracts = Rule(DuplicateUriAcrossContractsId, "Two contracts map to the same URI",
        "'{0}' maps to '{1}', which '{2}' also uses; change a prefix or a name so each URI is used once");

    /// <summary>"'{0}' maps to '{1}', which is not a valid WAMP URI: {2}"</summary>
    public static readonly DiagnosticDescriptor InvalidUri = Rule(InvalidUriId, "Invalid WAMP URI",
        "'{0}' maps to '{1}', which is not a valid WAMP URI: {2}");

    /// <summary>"'{0}' maps to '{1}'; URIs starting with 'wamp.' belong to the protocol, use your own prefix"</summary>
    public static readonly DiagnosticDescriptor ReservedUri = Rule(ReservedUriId, "Reserved WAMP URI",
        "'{0}' maps to '{1}'; URIs starting with 'wamp.' belong to the protocol: use a prefix of your own, such as 'com.example'");

    /// <summary>"'{0}' is {1}; a contract declares only methods" ({1}: "a property", "an indexer", "an event")</summary>
    public static readonly DiagnosticDescriptor UnsupportedMember = Rule(UnsupportedMemberId, "Unsupported contract member",
        "'{0}' is {1}; a contract declares only methods: turn it into a method or move it out of the interface");

    /// <summary>"'{0}' has {1} [IdempotencyKey] parameters; keep one"</summary>
    public static readonly DiagnosticDescriptor MultipleIdempotencyKeys = Rule(MultipleIdempotencyKeysId, "More than one idempotency key",
        "'{0}' has {1} [IdempotencyKey] parameters; keep one");

    /// <summary>"[IdempotencyKey] parameter '{0}' of '{1}' is '{2}'; make it string or Guid"</summary>
    public static readonly DiagnosticDescriptor IdempotencyKeyType = Rule(IdempotencyKeyTypeId, "Idempotency key of an unsupported type",
        "[IdempotencyKey] parameter '{0}' of '{1}' is of type '{2}'; make it string or Guid (nullable allowed)");

    /// <summary>"[Timeout({0})] on '{1}' is not positive; give a time in milliseconds greater than zero"</summary>
    public static readonly DiagnosticDescriptor InvalidTimeout = Rule(InvalidTimeoutId, "Timeout of zero or less",
        "[Timeout({0})] on '{1}' is not positive; give a time in milliseconds greater than zero");

    /// <summary>"Contract '{0}' is generic; declare a non-generic interface per contract"</summary>
    public static readonly DiagnosticDescriptor GenericContract = Rule(GenericContractId, "Generic contract interface",
        "Contract '{0}' is generic; declare one non-generic interface per contract");

    /// <summary>"[WampError] type '{0}' does not derive from WampException; derive from it so the URI and payload travel"</summary>
    public static readonly DiagnosticDescriptor ErrorTypeNotWampException = Rule(ErrorTypeNotWampExceptionId, "Error type is not a WampException",
        "[WampError] type '{0}' does not derive from WampContracts.WampException; derive from it so its URI and payload travel");

    /// <summary>"[WampError] type '{0}' cannot be re-created by callers; add a public constructor whose parameters match its properties, …"</summary>
    public static readonly DiagnosticDescriptor ErrorTypeConstructor = Rule(ErrorTypeConstructorId, "Error type cannot be re-created",
        "[WampError] type '{0}' cannot be re-created by callers; add a public constructor whose parameters match its public properties by name, a public constructor '{1}(WampContracts.WampPayload payload)' or a public parameterless one");

    /// <summary>"Contract '{0}' is {1}; make it public or internal so generated code can implement it"</summary>
    public static readonly DiagnosticDescriptor InaccessibleContract = Rule(InaccessibleContractId, "Contract is not accessible",
        "Contract '{0}' is {1}; make it public or internal so the generated code can implement it");

    /// <summary>"[Retry] on '{0}' would repeat a call that is not safe to repeat; mark it [NoSideEffects] if it only reads, [Idempotent] if the callee should deduplicate it, or give it an [IdempotencyKey] parameter"</summary>
    public static readonly DiagnosticDescriptor RetryNotSafe = Rule(RetryNotSafeId, "Retry policy on a method that cannot be retried",
        "[Retry] on '{0}' would repeat a call that is not safe to repeat; mark it [NoSideEffects] if it only reads, [Idempotent] if the callee should deduplicate it, or give it an [IdempotencyKey] parameter");

    /// <summary>"[NoSideEffects] on '{0}' contradicts {1}: a call without side effects has nothing for the callee to deduplicate; remove {2} if the call only reads, or [NoSideEffects] if its effects must happen once"</summary>
    public static readonly DiagnosticDescriptor NoSideEffectsDeduplicated = Rule(NoSideEffectsDeduplicatedId, "[NoSideEffects] on a method that asks for deduplication",
        "[NoSideEffects] on '{0}' contradicts {1}: a call without side effects has nothing for the callee to deduplicate; remove {2} if the call only reads, or [NoSideEffects] if its effects must happen once");

    /// <summary>"{0} of '{1}' is of type '{2}': {3}" ({0}: "Parameter 'x'" or "The result"; {3}: why, and what to use instead)</summary>
    public static readonly DiagnosticDescriptor UnsupportedWireType = Rule(UnsupportedWireTypeId, "A type the wire cannot carry",
        "{0} of '{1}' is of type '{2}': {3}");

    /// <summary>
    /// "{0} of '{1}' is of type '{2}', which has no source-generated JSON metadata, so a trimmed or Native AOT app would fail
    /// the call at run time; add [JsonSerializable(typeof({2}))] to a JsonSerializerContext of this project, e.g. …"
    /// </summary>
    public static readonly DiagnosticDescriptor MissingJsonMetadata = new(MissingJsonMetadataId, "A contract type without JSON metadata in a trimmed or AOT app",
        "{0} of '{1}' is of type '{2}', which has no source-generated JSON metadata, so this trimmed or Native AOT app would fail the call at run time; add [JsonSerializable(typeof({2}))] to a JsonSerializerContext of this project, such as '[JsonSerializable(typeof({2}))] internal partial class {3} : System.Text.Json.Serialization.JsonSerializerContext;'",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpLinkOf(MissingJsonMetadataId, "A contract type without JSON metadata in a trimmed or AOT app"),
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    /// <summary>"'{0}' is passed to {1}<T> but is not marked [{2}]; add [{2}(\"prefix\")] to it so the build generates its {3}"</summary>
    public static readonly DiagnosticDescriptor NotAContract = Rule(NotAContractId, "GetProxy or RegisterAsync of a type that is not a contract",
        "'{0}' is passed to {1}<T> but is not marked [{2}]; add [{2}(\"prefix\")] to it so the build generates its {3}");

    /// <summary>"'{0}' takes no CancellationToken; add 'CancellationToken cancellationToken = default' as its last parameter so callers can cancel it"</summary>
    public static readonly DiagnosticDescriptor MissingCancellationToken = new(MissingCancellationTokenId, "A procedure without a CancellationToken",
        "'{0}' takes no CancellationToken; add 'CancellationToken cancellationToken = default' as its last parameter so a caller can cancel the call and the callee sees it",
        Category, DiagnosticSeverity.Info, isEnabledByDefault: true, helpLinkUri: HelpLinkOf(MissingCancellationTokenId, "A procedure without a CancellationToken"));

    private static DiagnosticDescriptor Rule(string id, string title, string message, params string[] tags) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpLinkOf(id, title), customTags: tags);

    /// <summary>WAMP0007 is found only once the whole compilation has been seen.</summary>
    public static readonly DiagnosticDescriptor DuplicateUriAcrossContractsEnd = new(DuplicateUriAcrossContractsId, "Two contracts map to the same URI",
        DuplicateUriAcrossContracts.MessageFormat, Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        helpLinkUri: DuplicateUriAcrossContracts.HelpLinkUri, customTags: WellKnownDiagnosticTags.CompilationEnd);

    /// <summary>
    /// The link to the heading "ID: Title" of docs/contracts.md, with the anchor GitHub gives a heading: lowercase, spaces
    /// as '-', and every character other than a letter, a digit, '-' or '_' left out.
    /// </summary>
    public static string HelpLinkOf(string id, string title)
    {
        var anchor = new System.Text.StringBuilder();
        foreach (char c in (id + ": " + title).ToLowerInvariant())
        {
            if (c == ' ') anchor.Append('-');
            else if (char.IsLetterOrDigit(c) || c is '-' or '_') anchor.Append(c);
        }
        return HelpBase + anchor;
    }
}
