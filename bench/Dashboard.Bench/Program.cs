// Benchmarks: printed, never asserted in CI; docs/benchmarks.md records the results and how to rerun them.
//   dotnet run -c Release --project bench/Dashboard.Bench -- list     the image stream list query (SQLite)
//   dotnet run -c Release --project bench/Dashboard.Bench -- import   a 200-tag repository import from a local registry
//   dotnet run -c Release --project bench/Dashboard.Bench -- import-signed  the same with a cosign signature per image and its key trusted
//   dotnet run -c Release --project bench/Dashboard.Bench -- schedule 10,000 scheduled tags over 100 repositories, a full cycle
//   dotnet run -c Release --project bench/Dashboard.Bench -- admission /admission/validate under load (build src/Dashboard in Release first)
//   dotnet run -c Release --project bench/Dashboard.Bench -- proxy     a 256 MiB layer direct, through the dashboard, through docker-registry's proxy
//   dotnet run -c Release --project bench/Dashboard.Bench -- instances scheduled-import throughput: one SQLite instance, one and two on PostgreSQL
//   dotnet run -c Release --project bench/Dashboard.Bench -- circuits  memory per open console tab and per disconnected circuit (build src/Dashboard in Release first)
// No argument runs them all.
using Dashboard.Bench;

var benchmarks = new Dictionary<string, Func<Task>>
{
    ["list"] = ImageStreamListBenchmark.RunAsync,
    ["import"] = RepositoryImportBenchmark.RunAsync,
    ["import-signed"] = RepositoryImportBenchmark.RunSignedAsync,
    ["schedule"] = ScheduleBenchmark.RunAsync,
    ["admission"] = AdmissionBenchmark.RunAsync,
    ["proxy"] = ProxyBenchmark.RunAsync,
    ["instances"] = InstancesBenchmark.RunAsync,
    ["circuits"] = CircuitMemoryBenchmark.RunAsync,
};

var chosen = args.Length == 0 ? [.. benchmarks.Keys] : args;
if (chosen.FirstOrDefault(name => !benchmarks.ContainsKey(name)) is { } unknown)
{
    Console.Error.WriteLine($"Unknown benchmark '{unknown}'; choose from: {string.Join(", ", benchmarks.Keys)} (none runs all).");
    return 2;
}

foreach (var name in chosen)
{
    Console.WriteLine($"== {name} ==");
    await benchmarks[name]();
    Console.WriteLine();
}

return 0;
