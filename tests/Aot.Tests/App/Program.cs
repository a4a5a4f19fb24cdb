using AotApp;
using WampContracts;

// Registers ICatalog in one session and calls it from another through the router at args[0]; every check that fails
// prints what it saw and ends with exit code 1.
if (args.Length != 1 || !Uri.TryCreate(args[0], UriKind.Absolute, out var url))
{
    Console.Error.WriteLine("usage: AotApp ws://HOST:PORT/");
    return 2;
}
using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
var ct = bound.Token;

await using var callee = await WampSession.ConnectAsync(url, "realm1", cancellationToken: ct);
await using var registration = await callee.RegisterAsync<ICatalog>(new Catalog(), ct);
await using var caller = await WampSession.ConnectAsync(url, "realm1", cancellationToken: ct);
var catalog = caller.GetProxy<ICatalog>();

var first = await catalog.Get(1, ct);
Console.WriteLine($"first call: {first.Name}");
int failures = 0;
Check("record", first is { Id: 1, Name: "C# in a nutshell", Category: Category.Books, Discontinued: null } && first.Price == new Price(42.5m, "EUR")
    && first.Tags.SequenceEqual(["c#", "reference"]), first);
var games = await catalog.Search(Category.Games, cancellationToken: ct);
Check("list and enum", games.Count == 1 && games[0].Id == 2 && games[0].Discontinued == new DateOnly(2020, 1, 31), games.Count);
var limited = await catalog.Search(Category.Books, "c#", 1, ct);
Check("nullable arguments", limited.Count == 1 && limited[0].Id == 1, limited.Count);
Check("nullable result", await catalog.Stock(1, ct) == 7 && await catalog.Stock(2, ct) is null, "stock");
await catalog.Rename(1, "C# in depth", ct);
Check("call without a result", (await catalog.Get(1, ct)).Name == "C# in depth", "rename");
var history = new List<Price>();
await foreach (var price in catalog.PriceHistory(1, ct)) history.Add(price);
Check("progressive results", history.Count == 2 && history[1] == new Price(39.5m, "EUR"), history.Count);
try
{
    await catalog.Get(404, ct);
    Check("typed error", false, "no error");
}
catch (ProductNotFoundException e)
{
    Check("typed error", e.Id == 404 && e.Category == Category.Music && e.Args[0].GetString() == "product 404 not found", $"{e.Id} {e.Category} {e.Message}");
}
Console.WriteLine(failures == 0 ? "all calls passed" : $"{failures} check(s) failed");
return failures == 0 ? 0 : 1;

void Check(string what, bool ok, object? seen)
{
    if (ok) return;
    failures++;
    Console.WriteLine($"FAILED {what}: {seen}");
}

sealed class Catalog : ICatalog
{
    public static readonly List<Product> Products =
    [
        new(1, "C# in a nutshell", Category.Books, new Price(42.5m, "EUR"), ["c#", "reference"], null),
        new(2, "Outer Wilds", Category.Games, new Price(24.99m, "EUR"), [], new DateOnly(2020, 1, 31)),
    ];

    public Task<Product> Get(int id, CancellationToken cancellationToken = default) =>
        Products.FirstOrDefault(p => p.Id == id) is { } p ? Task.FromResult(p) : throw new ProductNotFoundException(id, Category.Music);

    public Task<List<Product>> Search(Category category, string? text = null, int? limit = null, CancellationToken cancellationToken = default) =>
        Task.FromResult(Products.Where(p => p.Category == category && (text is null || p.Tags.Contains(text))).Take(limit ?? int.MaxValue).ToList());

    public Task<int?> Stock(int id, CancellationToken cancellationToken = default) => Task.FromResult<int?>(id == 1 ? 7 : null);

    public Task Rename(int id, string name, CancellationToken cancellationToken = default)
    {
        int i = Products.FindIndex(p => p.Id == id);
        if (i < 0) throw new ProductNotFoundException(id, null);
        Products[i] = Products[i] with { Name = name };
        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<Price> PriceHistory(int id, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        yield return new Price(42.5m, "EUR");
        await Task.Yield();
        yield return new Price(39.5m, "EUR");
    }
}
