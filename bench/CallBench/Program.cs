using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/CallBench -- --filter '*'   (BenchmarkDotNet's options; --job short for a quick run)
BenchmarkSwitcher.FromAssembly(typeof(WampContracts.Bench.ProxyVsRawCall).Assembly).Run(args);
