// The tests start router, replica and Redis processes and kill them; node deaths are judged by heartbeats within a
// 2 s timeout. One test at a time, so no test's processes starve another's heartbeats on a 2-core machine.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
