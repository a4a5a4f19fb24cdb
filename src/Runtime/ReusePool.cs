namespace WampContracts;

/// <summary>
/// A bounded stack of objects kept for reuse, shared by the whole process: taking from an empty pool or returning to
/// a full one is not an error (the caller makes a new object, or the returned one goes to the garbage collector).
/// </summary>
internal sealed class ReusePool<T>(int capacity) where T : class
{
    private readonly T?[] _items = new T?[capacity];
    private readonly Lock _lock = new();
    private int _count;

    public T? TryTake()
    {
        lock (_lock)
        {
            if (_count == 0) return null;
            var item = _items[--_count];
            _items[_count] = null;
            return item;
        }
    }

    public void Return(T item)
    {
        lock (_lock)
            if (_count < _items.Length) _items[_count++] = item;
    }
}
