# Writes the small reference files WeightFileFixtureTests reads, with PyTorch itself (Debian's python3-torch 1.13.1).
# Run once by hand (never in CI):  /usr/bin/python3 make_fixtures.py
# The values are chosen so every type holds them exactly, except the two rounding probes (0.1 and 1/3), whose fp16 and
# bf16 values the test states as computed by hand.
import json, os, struct, torch

torch.manual_seed(0)
base = torch.arange(6, dtype=torch.float32).reshape(2, 3) / 4 - 0.5          # -0.5, -0.25, 0, 0.25, 0.5, 0.75
probe = torch.tensor([0.1, 1.0 / 3.0, -2.5, 65504.0])
state = {
    "a.weight": base.clone(),
    "b.half": probe.half(),
    "c.bf16": probe.bfloat16(),
    "d.double": torch.tensor([1.5, -0.125, 1e-3], dtype=torch.float64),
    "e.ids": torch.tensor([7, -3, 2**40], dtype=torch.int64),
    "f.transposed": base.t(),                    # a non-contiguous view saved as is (stride (1, 3))
    "g.slice": base.reshape(-1)[2:5],            # a view at storage offset 2 of the same storage
}
torch.save(state, "torch_flat.bin")
torch.save({"global_step": 1234, "epoch": 3, "pytorch-lightning_version": "1.9.0",
            "state_dict": {"model.x.weight": base.clone(), "model.y.bias": probe.half()}}, "lightning.ckpt")
torch.save({"w": base.clone()}, "legacy.pt", _use_new_zipfile_serialization=False)


class Evil:
    def __reduce__(self):
        return (os.system, ("echo this must never run",))


torch.save({"w": base.clone(), "payload": Evil()}, "evil.pt")

# A safetensors file written to the published layout by hand (no safetensors package on this machine):
# u64 LE header length, JSON header padded with spaces to 8 bytes, data.
tensors = [("a.weight", "F32", [2, 3], base.numpy().tobytes()),
           ("b.half", "F16", [4], probe.half().numpy().tobytes()),
           ("c.bf16", "BF16", [4], probe.bfloat16().view(torch.int16).numpy().tobytes())]
header, offset, data = {"__metadata__": {"format": "pt"}}, 0, b""
for name, dtype, shape, raw in tensors:
    header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
    offset += len(raw)
    data += raw
text = json.dumps(header).encode()
text += b" " * ((8 - len(text) % 8) % 8)
with open("handmade.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + data)
