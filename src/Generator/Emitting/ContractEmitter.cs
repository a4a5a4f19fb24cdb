using System.Globalization;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using WampContracts.Generator.Model;

namespace WampContracts.Generator.Emitting;

/// <summary>Writes the generated source of one contract from its spec alone.</summary>
internal static class ContractEmitter
{
    private const string Runtime = "global::WampContracts.WampContractRuntime";
    private const string Session = "global::WampContracts.WampSession";
    private const string Payload = "global::WampContracts.WampPayload";
    private const string PayloadBuilder = "global::WampContracts.WampPayloadBuilder";
    private const string Descriptor = "global::WampContracts.WampMethodDescriptor";
    private const string IdempotencyLevelType = "global::WampContracts.WampIdempotencyLevel";
    private const string Registry = "global::WampContracts.WampContractRegistry";
    private const string Targets = "global::WampContracts.WampContractTargets";
    private const string Token = "global::System.Threading.CancellationToken";
    private const string Task = "global::System.Threading.Tasks.Task";
    private const string ValueTask = "global::System.Threading.Tasks.ValueTask";
    private const string AsyncDisposable = "global::System.IAsyncDisposable";
    private const string ModuleInitializer = "[global::System.Runtime.CompilerServices.ModuleInitializer]";

    /// <summary>The generator's name and version, for [GeneratedCode].</summary>
    public static readonly string GeneratedCode = string.Format(CultureInfo.InvariantCulture,
        "[global::System.CodeDom.Compiler.GeneratedCode(\"WampContracts.Generator\", \"{0}\")]",
        typeof(ContractEmitter).Assembly.GetName().Version?.ToString(3) ?? "0.0.0");

    public static void Emit(SourceProductionContext context, ServiceSpec spec) =>
        context.AddSource(HintName(spec.MetadataName) + ".WampContract.g.cs", SourceText.From(Generate(spec), System.Text.Encoding.UTF8));

    public static void EmitError(SourceProductionContext context, ErrorSpec spec) =>
        context.AddSource(HintName(spec.MetadataName) + ".WampError.g.cs", SourceText.From(GenerateError(spec), System.Text.Encoding.UTF8));

    /// <summary>A file name for a type: '+' (nesting) becomes '-', which no namespace or type name contains.</summary>
    private static string HintName(string metadataName) => metadataName.Replace('+', '-');

    public static string Generate(ServiceSpec spec)
    {
        var w = Header();
        string className = Mangle(spec.MetadataName) + "_WampContract";
        w.Line($"/// <summary>Generated WAMP {(spec.Kind == ContractKind.Service ? "caller proxy and callee stub" : "publisher and subscriber")} for <see cref=\"{spec.FullName.Replace("global::", "")}\"/>.</summary>");
        w.Line(GeneratedCode);
        w.Open($"internal static class {className}");

        foreach (var skipped in spec.Skipped)
            w.Line($"// '{skipped.Name}' is not generated: reported as {skipped.DiagnosticId}.");

        // One static descriptor per method, shared by both sides:
        //   internal static readonly WampMethodDescriptor Get__0 = new("MyApp.IConferences", "Get", "com.example.conferences.get", 2000, WampIdempotencyLevel.NoSideEffects, -1, 0);
        //   (service, name, URI, timeout ms, idempotency level, key parameter, retry attempts)
        for (int i = 0; i < spec.Procedures.Count; i++)
        {
            var p = spec.Procedures[i];
            w.Line($"internal static readonly {Descriptor} {DescriptorName(p, i)} = new({Quote(spec.MetadataName)}, {Quote(p.Name)}, {Quote(p.Uri)}, {p.TimeoutMilliseconds.ToString(CultureInfo.InvariantCulture)}, {IdempotencyLevelType}.{p.Idempotency}, {p.IdempotencyKeyParameter.ToString(CultureInfo.InvariantCulture)}, {p.RetryAttempts.ToString(CultureInfo.InvariantCulture)});");
        }
        w.Line();

        // Found by GetProxy<T>() / RegisterAsync<T>() (or GetPublisher<T>() / SubscribeAsync<T>()) with no reflection.
        w.Line(ModuleInitializer);
        w.Line(spec.Kind == ContractKind.Service
            ? $"internal static void Register() => {Registry}.RegisterService<{spec.FullName}>(static session => new Caller(session), AttachAsync);"
            : $"internal static void Register() => {Registry}.RegisterEvents<{spec.FullName}>(static session => new Publisher(session), AttachAsync);");
        w.Line();

        if (spec.Kind == ContractKind.Service) EmitCallee(w, spec);
        else EmitSubscriber(w, spec);
        w.Line();
        EmitProxy(w, spec, spec.Kind == ContractKind.Service ? "Caller" : "Publisher");
        w.Close();
        return w.ToString();
    }

    private static void EmitCallee(SourceWriter w, ServiceSpec spec)
    {
        // Registers each procedure with a handler that reads the arguments and calls the implementation:
        //   new(Get__0, async (__invocation, __cancellationToken) => Result(await __target.Get(id, token), TypeInfo<Conference>(session)))
        w.Open($"internal static {Task}<{AsyncDisposable}> AttachAsync({Session} __session, {spec.FullName} __target, {Token} __cancellationToken)");
        w.Line($"return {Runtime}.RegisterAsync(__session, new global::WampContracts.WampProcedureBinding[]");
        w.Line("{").Indent();
        for (int i = 0; i < spec.Procedures.Count; i++)
        {
            var p = spec.Procedures[i];
            bool isAsync = p.ReturnKind != ReturnKind.AsyncEnumerable;
            w.Open($"new({DescriptorName(p, i)}, {(isAsync ? "async " : "")}(__invocation, __token) =>");
            foreach (var parameter in p.Parameters)
            {
                switch (parameter.Role)
                {
                    case ParameterRole.Argument:
                        string read = parameter.Optional
                            ? $"{Runtime}.Argument(__invocation, {parameter.WireIndex}, {TypeInfo(parameter.Type)}, {parameter.DefaultValue ?? "default!"})"
                            : $"{Runtime}.Argument(__invocation, {parameter.WireIndex}, {TypeInfo(parameter.Type)})";
                        w.Line($"{parameter.Type} {Local(parameter)} = {read};");
                        break;
                    case ParameterRole.IdempotencyKeyString:
                        w.Line($"{parameter.Type} {Local(parameter)} = {Runtime}.IdempotencyKey(__invocation){(parameter.Optional ? "" : " ?? \"\"")};");
                        break;
                    case ParameterRole.IdempotencyKeyGuid:
                        w.Line($"{parameter.Type} {Local(parameter)} = {Runtime}.IdempotencyKeyGuid(__invocation){(parameter.Optional ? "" : " ?? default")};");
                        break;
                }
            }
            string call = $"{Targets}.Resolve(__target).{p.Name}({string.Join(", ", p.Parameters.Select(a => a.Role == ParameterRole.CancellationToken ? "__token" : Local(a)))})";
            switch (p.ReturnKind)
            {
                case ReturnKind.Task:
                case ReturnKind.ValueTask:
                    w.Line($"await {call}.ConfigureAwait(false);");
                    w.Line($"return {Payload}.Empty;");
                    break;
                case ReturnKind.TaskOfT:
                case ReturnKind.ValueTaskOfT:
                    w.Line($"return {Runtime}.Result(await {call}.ConfigureAwait(false), {TypeInfo(p.ResultType!)});");
                    break;
                case ReturnKind.AsyncEnumerable:
                    w.Line($"return {Runtime}.StreamResultsAsync(__invocation, {call}, {TypeInfo(p.ResultType!)}, __token);");
                    break;
            }
            w.Close("),");
        }
        w.Outdent().Line("}, __cancellationToken);");
        w.Close();
    }

    private static void EmitSubscriber(SourceWriter w, ServiceSpec spec)
    {
        // Subscribes each topic with a handler that reads the arguments and calls the implementation.
        w.Open($"internal static {Task}<{AsyncDisposable}> AttachAsync({Session} __session, {spec.FullName} __target, {Token} __cancellationToken)");
        w.Line($"return {Runtime}.SubscribeAsync(__session, new global::WampContracts.WampEventBinding[]");
        w.Line("{").Indent();
        for (int i = 0; i < spec.Procedures.Count; i++)
        {
            var p = spec.Procedures[i];
            w.Open($"new({DescriptorName(p, i)}, (__event, __token) =>");
            foreach (var parameter in p.Parameters.Where(a => a.Role == ParameterRole.Argument))
                w.Line($"{parameter.Type} {Local(parameter)} = {Runtime}.Argument(__event, {parameter.WireIndex}, {TypeInfo(parameter.Type)}, {parameter.DefaultValue ?? "default!"});");
            string call = $"{Targets}.Resolve(__target).{p.Name}({string.Join(", ", p.Parameters.Select(a => a.Role == ParameterRole.CancellationToken ? "__token" : Local(a)))})";
            w.Line(p.ReturnKind == ReturnKind.ValueTask ? $"return {call};" : $"return new {ValueTask}({call});");
            w.Close("),");
        }
        w.Outdent().Line("}, __cancellationToken);");
        w.Close();
    }

    private static void EmitProxy(SourceWriter w, ServiceSpec spec, string className)
    {
        // Implements the contract: each method packs its arguments and calls (or publishes) through the session.
        w.Line(GeneratedCode);
        w.Open($"internal sealed class {className} : {spec.FullName}");
        w.Line($"private readonly {Session} __session;");
        w.Line();
        w.Line($"public {className}({Session} session) => __session = session;");
        for (int i = 0; i < spec.Procedures.Count; i++)
        {
            var p = spec.Procedures[i];
            w.Line();
            string parameters = string.Join(", ", p.Parameters.Select(a => $"{a.Type} {Local(a)}"));
            w.Open($"public {ReturnType(p)} {p.Name}({parameters})");
            var wire = p.Parameters.Where(a => a.Role == ParameterRole.Argument).ToList();
            if (wire.Count == 0)
            {
                w.Line($"var __arguments = {Payload}.Empty;");
            }
            else
            {
                w.Line($"var __arguments = new {PayloadBuilder}()");
                w.Indent();
                foreach (var a in wire) w.Line($".AddArgument({Local(a)}, {TypeInfo(a.Type, "__session")})");
                w.Line(".Build();");
                w.Outdent();
            }
            var token = p.Parameters.FirstOrDefault(a => a.Role == ParameterRole.CancellationToken);
            string tokenExpression = token is null ? "default" : Local(token);
            var key = p.Parameters.FirstOrDefault(a => a.Role is ParameterRole.IdempotencyKeyString or ParameterRole.IdempotencyKeyGuid);
            string keyExpression = key is null ? "null" : key.Role == ParameterRole.IdempotencyKeyString ? Local(key) : key.Optional ? $"{Local(key)}?.ToString()" : $"{Local(key)}.ToString()";
            string descriptor = DescriptorName(p, i);
            if (spec.Kind == ContractKind.Events)
            {
                string publish = $"{Runtime}.PublishAsync(__session, {descriptor}, __arguments, {tokenExpression})";
                w.Line(p.ReturnKind == ReturnKind.ValueTask ? $"return new {ValueTask}({publish});" : $"return {publish};");
            }
            else
            {
                switch (p.ReturnKind)
                {
                    case ReturnKind.Task:
                        w.Line($"return {Runtime}.CallAsync(__session, {descriptor}, __arguments, {keyExpression}, {tokenExpression});");
                        break;
                    case ReturnKind.ValueTask:
                        w.Line($"return new {ValueTask}({Runtime}.CallAsync(__session, {descriptor}, __arguments, {keyExpression}, {tokenExpression}));");
                        break;
                    case ReturnKind.TaskOfT:
                        w.Line($"return {Runtime}.CallAsync(__session, {descriptor}, __arguments, {TypeInfo(p.ResultType!, "__session")}, {keyExpression}, {tokenExpression});");
                        break;
                    case ReturnKind.ValueTaskOfT:
                        w.Line($"return new {ValueTask}<{p.ResultType}>({Runtime}.CallAsync(__session, {descriptor}, __arguments, {TypeInfo(p.ResultType!, "__session")}, {keyExpression}, {tokenExpression}));");
                        break;
                    case ReturnKind.AsyncEnumerable:
                        w.Line($"return {Runtime}.StreamAsync(__session, {descriptor}, __arguments, {TypeInfo(p.ResultType!, "__session")}, {keyExpression}, {tokenExpression});");
                        break;
                }
            }
            w.Close();
        }
        if (spec.Skipped.Count > 0)
        {
            // Members the analyzer reports: implemented only so that its diagnostics are the only errors.
            w.Line();
            foreach (var skipped in spec.Skipped) w.Line(skipped.Stub);
        }
        w.Close();
    }

    public static string GenerateError(ErrorSpec spec)
    {
        var w = Header();
        w.Line($"/// <summary>Maps <c>{spec.Uri}</c> to <see cref=\"{spec.FullName.Replace("global::", "")}\"/> for generated callers.</summary>");
        w.Line(GeneratedCode);
        w.Open($"internal static class {Mangle(spec.MetadataName)}_WampError");
        w.Line(ModuleInitializer);
        if (spec.Properties.Count == 0)
        {
            w.Line($"internal static void Register() => {Registry}.RegisterError({Quote(spec.Uri)}, static error => new {spec.FullName}({(spec.FromPayload ? "error.Payload" : "")}));");
            w.Close();
            return w.ToString();
        }

        // An error with data: the callee writes its properties as keyword arguments (after the message it was given), the
        // caller rebuilds it from them:
        //   RegisterError<X>("uri", static error => new X(ErrorData(error, "id", TypeInfo<int>())),
        //       static exception => new WampPayloadBuilder().AddKeywordArgument("id", exception.Id, TypeInfo<int>()).Build());
        string rebuild = spec.FromPayload
            ? "error.Payload"
            : string.Join(", ", spec.Arguments.Select(name => spec.Properties.First(p => p.Name == name))
                .Select(p => $"{Runtime}.ErrorData(error, {Quote(p.JsonName)}, {Runtime}.TypeInfo<{p.Type}>())"));
        w.Open("internal static void Register()");
        w.Line($"{Registry}.RegisterError<{spec.FullName}>({Quote(spec.Uri)},");
        w.Indent();
        w.Line($"static error => new {spec.FullName}({rebuild}),");
        w.Line($"static exception => new {PayloadBuilder}()");
        w.Indent();
        foreach (var p in spec.Properties)
            w.Line($".AddKeywordArgument({Quote(p.JsonName)}, exception.@{p.Name}, {Runtime}.TypeInfo<{p.Type}>())");
        w.Line(".Build());");
        w.Outdent();
        w.Outdent();
        w.Close();
        w.Close();
        return w.ToString();
    }

    public static void EmitJsonContext(SourceProductionContext context, JsonContextSpec spec) =>
        context.AddSource(HintName(spec.MetadataName) + ".WampJsonContext.g.cs", SourceText.From(GenerateJsonContext(spec), System.Text.Encoding.UTF8));

    public static string GenerateJsonContext(JsonContextSpec spec)
    {
        // Default is the instance System.Text.Json's own generator declares on every context.
        var w = Header();
        w.Line($"/// <summary>Gives contract calls the JSON metadata of <see cref=\"{spec.FullName.Replace("global::", "")}\"/>, so they need no reflection.</summary>");
        w.Line(GeneratedCode);
        w.Open($"internal static class {Mangle(spec.MetadataName)}_WampJsonContext");
        w.Line(ModuleInitializer);
        w.Line($"internal static void Register() => {Registry}.RegisterJsonContext({spec.FullName}.Default);");
        w.Close();
        return w.ToString();
    }

    private static SourceWriter Header()
    {
        var w = new SourceWriter();
        w.Line("// <auto-generated/>");
        w.Line("#nullable enable");
        w.Line("// CA2255: a module initializer is how generated contracts are found at run time without reflection.");
        w.Line("#pragma warning disable CA2255");
        w.Line();
        w.Line("namespace WampContracts.Generated;");
        w.Line();
        return w;
    }

    private static string ReturnType(ProcedureSpec p) => p.ReturnKind switch
    {
        ReturnKind.Task => Task,
        ReturnKind.ValueTask => ValueTask,
        ReturnKind.TaskOfT => $"{Task}<{p.ResultType}>",
        ReturnKind.ValueTaskOfT => $"{ValueTask}<{p.ResultType}>",
        _ => $"global::System.Collections.Generic.IAsyncEnumerable<{p.ResultType}>",
    };

    private static string TypeInfo(string type, string session = "__session") => $"{Runtime}.TypeInfo<{type}>({session})";

    private static string DescriptorName(ProcedureSpec p, int index) => p.Name + "__" + index.ToString(CultureInfo.InvariantCulture);

    private static string Local(ParameterSpec p) => "@" + p.Name;

    /// <summary>
    /// An identifier for a type's metadata name that no other name maps to: '.' becomes "__", '+' (nesting) "_2",
    /// and '_' "_1" — a prefix-free code, so <c>A.B_C</c> and <c>A_B.C</c> stay apart.
    /// </summary>
    private static string Mangle(string metadataName)
    {
        var sb = new StringBuilder(metadataName.Length + 8);
        foreach (char c in metadataName)
        {
            switch (c)
            {
                case '.': sb.Append("__"); break;
                case '+': sb.Append("_2"); break;
                case '_': sb.Append("_1"); break;
                default: sb.Append(c); break;
            }
        }
        return sb.ToString();
    }

    private static string Quote(string s) => SymbolDisplay.FormatLiteral(s, quote: true);
}
