using LatentIndigo.Fuzz;
using SharpFuzz;

// latent-indigo fuzzing harness. Under afl-fuzz: `LatentIndigo.Fuzz <target>` reads each input AFL gives it.
// Without AFL: `--replay <folder>` runs every file of a folder once, `--replay-file <file>` one file (crash repro).
if (args is ["seed-inn", var seedPath])
{
    // The smallest valid .inn file (1 channel, width 1, no residual blocks) as a corpus seed: AFL wants small inputs.
    using var inn = new LatentIndigo.Invertible.LiftingInn(new LatentIndigo.Invertible.LiftingInnOptions
    {
        Channels = 1, Levels = 1, ResBlocks = 0, Width = 1, ConditionSize = 1,
    });
    inn.Save(seedPath);
    return 0;
}
if (args.Length < 1 || !FuzzTargets.All.TryGetValue(args[0], out var target))
{
    Console.Error.WriteLine($"usage: LatentIndigo.Fuzz <{string.Join("|", FuzzTargets.All.Keys)}> [--replay <folder> | --replay-file <file>]  |  seed-inn <path>");
    return 2;
}
if (args.Length == 3 && args[1] == "--replay-file")
{
    target(File.ReadAllBytes(args[2]));
    Console.WriteLine($"{args[0]}: {args[2]} ran without an unexpected exception");
    return 0;
}
if (args.Length == 3 && args[1] == "--replay")
{
    int count = 0;
    foreach (var file in Directory.EnumerateFiles(args[2]).Order(StringComparer.Ordinal))
    {
        target(File.ReadAllBytes(file));
        count++;
    }
    Console.WriteLine($"{args[0]}: {count} input(s) replayed, no crash");
    return 0;
}
Fuzzer.OutOfProcess.Run(stream =>
{
    using var buffer = new MemoryStream();
    stream.CopyTo(buffer);
    target(buffer.ToArray());
});
return 0;
