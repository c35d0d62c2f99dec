// One test at a time: each app holds a pipeline, the browser tests drive one chromium, and the CI machine has 2 cores.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
