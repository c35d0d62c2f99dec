using BenchmarkDotNet.Running;

// Every benchmark class in this assembly; pick with --filter. "--job dry --inProcess" is a one-second smoke run.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
