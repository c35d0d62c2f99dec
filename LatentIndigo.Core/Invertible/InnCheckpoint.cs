using System.Security.Cryptography;
using System.Text;

namespace LatentIndigo.Invertible;

/// <summary>
/// A training checkpoint in ONE file, replaced atomically (<see cref="AtomicFile"/>): the run's recorded settings, the
/// network (its <c>.inn</c> bytes), the optimiser state, the random generator's state and the step, each section with
/// its SHA-256. A crash leaves the previous checkpoint or the new one whole, never step N's weights with another step's
/// optimiser state (which two files replaced one after the other could).
/// </summary>
internal sealed class InnCheckpoint
{
    private const string Magic = "LatentIndigo training checkpoint 2";

    /// <summary>Sorted <c>name=value</c> settings the run's output bytes depend on (<see cref="InnRunSettings"/>).</summary>
    public required SortedDictionary<string, string> Settings { get; init; }

    /// <summary>Optimiser steps done.</summary>
    public required int Step { get; init; }

    /// <summary>The last validation PSNR, if any ran.</summary>
    public double? ValidationPsnr { get; init; }

    /// <summary>The network as <see cref="LiftingInn.Save(Stream)"/> writes it.</summary>
    public required byte[] Network { get; init; }

    /// <summary>The optimiser's state (TorchSharp's state-dict format).</summary>
    public required byte[] Optimizer { get; init; }

    /// <summary>The torch generator's state (degradations' randomness).</summary>
    public required byte[] Generator { get; init; }

    /// <summary>Writes the checkpoint to <paramref name="path"/> in one atomic replace.</summary>
    public void Save(string path) => AtomicFile.Write(path, stream =>
    {
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(Step);
        writer.Write(ValidationPsnr.HasValue);
        writer.Write(ValidationPsnr ?? 0);
        foreach (var section in new[] { Encoding.UTF8.GetBytes(InnRunSettings.ToText(Settings)), Network, Optimizer, Generator })
        {
            writer.Write(section.LongLength);
            writer.Write(SHA256.HashData(section));
            writer.Write(section);
        }
    });

    /// <summary>Whether <paramref name="path"/> starts like a checkpoint of this format (an older one is an .inn file).</summary>
    public static bool HasCurrentFormat(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        try
        {
            return reader.ReadString() == Magic;
        }
        catch (Exception ex) when (ex is EndOfStreamException or IOException or FormatException)
        {
            return false;
        }
    }

    /// <summary>Reads a checkpoint, checking every section's hash.</summary>
    /// <exception cref="InnWeightsException">The file is not a checkpoint of this format, is truncated or damaged.</exception>
    public static InnCheckpoint Load(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var reader = new BinaryReader(stream, Encoding.UTF8);
            if (reader.ReadString() != Magic)
            {
                throw new InnWeightsException(
                    $"'{path}' is not a training checkpoint of this version (an older version wrote the network and the optimiser to two files). Start the training again without --resume (the checkpoint is replaced), or write to another --out.");
            }
            int step = reader.ReadInt32();
            bool hasPsnr = reader.ReadBoolean();
            double psnr = reader.ReadDouble();
            var sections = new byte[4][];
            for (int i = 0; i < sections.Length; i++)
            {
                long length = reader.ReadInt64();
                byte[] hash = reader.ReadBytes(32);
                if (length < 0 || length > stream.Length - stream.Position)
                {
                    throw new EndOfStreamException();
                }
                sections[i] = reader.ReadBytes((int)length);
                if (!SHA256.HashData(sections[i]).AsSpan().SequenceEqual(hash))
                {
                    throw new InnWeightsException($"The training checkpoint '{path}' is damaged (section {i + 1} does not match its SHA-256). Delete it and start the training again without --resume.");
                }
            }
            return new InnCheckpoint
            {
                Step = step,
                ValidationPsnr = hasPsnr ? psnr : null,
                Settings = InnRunSettings.FromText(Encoding.UTF8.GetString(sections[0])),
                Network = sections[1],
                Optimizer = sections[2],
                Generator = sections[3],
            };
        }
        catch (Exception ex) when (ex is EndOfStreamException or FormatException)
        {
            throw new InnWeightsException($"The training checkpoint '{path}' is truncated or damaged. Delete it and start the training again without --resume.", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InnWeightsException($"The training checkpoint '{path}' cannot be read: {IoFailure.Explain(ex, reading: true)}", ex);
        }
    }
}
