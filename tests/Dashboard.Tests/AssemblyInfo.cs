// Hangfire keeps its storage in static state (GlobalConfiguration, JobStorage.Current): two app instances in one test
// process would enqueue into each other's storage. Test classes each start their own app, so they run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
