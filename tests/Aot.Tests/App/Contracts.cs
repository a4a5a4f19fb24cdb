using System.Text.Json.Serialization;
using WampContracts;

namespace AotApp;

public enum Category { Books, Music, Games }

public sealed record Price(decimal Amount, string Currency);

public sealed record Product(int Id, string Name, Category Category, Price Price, List<string> Tags, DateOnly? Discontinued);

[WampService("com.example.catalog")]
public interface ICatalog
{
    [NoSideEffects]
    Task<Product> Get(int id, CancellationToken cancellationToken = default);

    Task<List<Product>> Search(Category category, string? text = null, int? limit = null, CancellationToken cancellationToken = default);

    Task<int?> Stock(int id, CancellationToken cancellationToken = default);

    [Idempotent]
    Task Rename(int id, string name, CancellationToken cancellationToken = default);

    IAsyncEnumerable<Price> PriceHistory(int id, CancellationToken cancellationToken = default);
}

[WampError("com.example.error.product_not_found")]
public sealed class ProductNotFoundException(int id, Category? category) : WampException("com.example.error.product_not_found", $"product {id} not found")
{
    public int Id { get; } = id;
    public Category? Category { get; } = category;
}

// What the build asks for in a Native AOT app (WAMP0021): source-generated JSON metadata for the contract's types.
[JsonSerializable(typeof(Product))]
[JsonSerializable(typeof(List<Product>))]
[JsonSerializable(typeof(Category))]
[JsonSerializable(typeof(Category?))]
[JsonSerializable(typeof(int?))]
internal partial class CatalogJson : JsonSerializerContext;
