using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;
using WampContracts.Generator.Analyzers;
using WampContracts.Generator.CodeFixes;

namespace WampContracts.Generator.Tests;

/// <summary>
/// Each code fix turns the code its diagnostic reports into code the analyzer accepts, checked by Roslyn's code-fix test
/// framework: the diagnostics before (with their positions in the markup), the text after, and nothing reported after.
/// </summary>
public class CodeFixTests
{
    private const string Usings = """
        global using System;
        global using System.Collections.Generic;
        global using System.Threading;
        global using System.Threading.Tasks;
        """;

    private static async Task VerifyAsync<TFix>(string source, string fixedSource) where TFix : CodeFixProvider, new()
    {
        var test = new CSharpCodeFixTest<WampContractAnalyzer, TFix, DefaultVerifier>
        {
            TestCode = source,
            FixedCode = fixedSource,
            // The framework's own copy of the targeting pack would be downloaded; the test host's assemblies serve instead.
            ReferenceAssemblies = new ReferenceAssemblies("net10.0"),
        };
        foreach (var path in ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator).Append(typeof(WampSession).Assembly.Location).Distinct())
            test.TestState.AdditionalReferences.Add(MetadataReference.CreateFromFile(path));
        test.TestState.Sources.Add(("Usings.cs", Usings));
        test.FixedState.Sources.Add(("Usings.cs", Usings));
        await test.RunAsync();
    }

    [Fact]
    public async Task WAMP0023_adds_a_cancellation_token_as_the_last_parameter() =>
        await VerifyAsync<MissingCancellationTokenCodeFixer>("""
            using WampContracts;
            namespace MyApp;
            public sealed record Item(string Name);
            [WampService("com.example.svc")]
            public interface ISvc
            {
                Task<Item> {|WAMP0023:Get|}(int id, string? note = null);
                IAsyncEnumerable<Item> {|WAMP0023:All|}();
            }
            """, """
            using WampContracts;
            namespace MyApp;
            public sealed record Item(string Name);
            [WampService("com.example.svc")]
            public interface ISvc
            {
                Task<Item> Get(int id, string? note = null, CancellationToken cancellationToken = default);
                IAsyncEnumerable<Item> All(CancellationToken cancellationToken = default);
            }
            """);

    [Fact]
    public async Task WAMP0002_wraps_the_return_type_in_a_task() =>
        await VerifyAsync<ReturnTypeCodeFixer>("""
            using WampContracts;
            namespace MyApp;
            public sealed record Item(string Name);
            [WampService("com.example.svc")]
            public interface ISvc
            {
                List<Item> {|WAMP0002:Search|}(string text, CancellationToken cancellationToken = default);
                void {|WAMP0002:Reset|}(CancellationToken cancellationToken = default);
            }
            [WampEvents("com.example.svc")]
            public interface ISvcEvents
            {
                Task<int> {|WAMP0002:Changed|}(Item item);
            }
            """, """
            using WampContracts;
            namespace MyApp;
            public sealed record Item(string Name);
            [WampService("com.example.svc")]
            public interface ISvc
            {
                Task<List<Item>> Search(string text, CancellationToken cancellationToken = default);
                Task Reset(CancellationToken cancellationToken = default);
            }
            [WampEvents("com.example.svc")]
            public interface ISvcEvents
            {
                Task Changed(Item item);
            }
            """);

    [Fact]
    public async Task WAMP0022_marks_the_interface_passed_to_get_proxy() =>
        await VerifyAsync<NotAContractCodeFixer>("""
            using WampContracts;
            namespace MyApp.Billing;
            public interface IInvoices
            {
                Task<int> Count(CancellationToken cancellationToken = default);
            }
            public interface IInvoiceEvents { Task Paid(int id); }
            public static class Use
            {
                public static void Run(WampSession session)
                {
                    var invoices = session.GetProxy<{|WAMP0022:IInvoices|}>();
                    var events = session.GetPublisher<{|WAMP0022:IInvoiceEvents|}>();
                }
            }
            """, """
            using WampContracts;
            namespace MyApp.Billing;
            [WampService("my_app.billing.invoices")]
            public interface IInvoices
            {
                Task<int> Count(CancellationToken cancellationToken = default);
            }
            [WampEvents("my_app.billing.invoice_events")]
            public interface IInvoiceEvents { Task Paid(int id); }
            public static class Use
            {
                public static void Run(WampSession session)
                {
                    var invoices = session.GetProxy<IInvoices>();
                    var events = session.GetPublisher<IInvoiceEvents>();
                }
            }
            """);
}
