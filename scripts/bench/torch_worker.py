"""PyTorch side of `npm run bench --torch`: the same cases as worker.ts.

Protocol: one JSON command per stdin line, one JSON answer per stdout line
prefixed with "@@bench ". Run with Debian's python3-torch (/usr/bin/python3).
The models follow the engine's (MedicalNet ResNet-18 shortcut A with the
authors' self-attention; METHOD.md §2), in PyTorch's NCDHW layout; the
pretraining model and its inputs come from the TF.js worker (torch_models.py).
"""
import json
import math
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_models import ResNet3d18, autocast, training_case


def bench_input(shape):
    """x[i] = sin(0.001·i) in the engine's NDHWC order, returned as NCDHW."""
    n = math.prod(shape)
    x = torch.sin(0.001 * torch.arange(n, dtype=torch.float64)).float().reshape(shape)
    return x.permute(0, 4, 1, 2, 3).contiguous()


class ConvCase:
    def __init__(self, s):
        d, h, w = s["size"]
        c = s["channels"]
        torch.manual_seed(1)
        self.x = bench_input([s["batch"], d, h, w, c]).requires_grad_(True)
        self.conv = nn.Conv3d(c, c, 3, padding=1, bias=False)
        self.params = sum(p.numel() for p in self.conv.parameters())
        self.bf16 = s.get("precision") == "bf16"

    def forward(self):
        with torch.no_grad(), autocast(self.bf16):
            self.conv(self.x)

    def step(self):
        self.x.grad = None
        self.conv.weight.grad = None
        with autocast(self.bf16):
            y = self.conv(self.x)
        y.float().backward(torch.ones_like(y, dtype=torch.float32))


class EncoderCase:
    def __init__(self, s):
        d, h, w = s["size"]
        torch.manual_seed(1)
        self.x = bench_input([s["batch"], d, h, w, 1])
        self.enc = ResNet3d18(s["width"])
        self.enc.train_from_layer3()
        self.params = sum(p.numel() for p in self.enc.parameters() if p.requires_grad)
        self.bf16 = s.get("precision") == "bf16"

    def forward(self):
        with torch.no_grad(), autocast(self.bf16):
            self.enc(self.x)

    def step(self):
        for p in self.enc.parameters():
            p.grad = None
        with autocast(self.bf16):
            layer3, out, _ = self.enc(self.x)
        out, layer3 = out.float(), layer3.float()
        loss = out.mean(dim=(2, 3, 4)).square().mean() + layer3.mean()
        loss.backward()


def reply(o):
    sys.stdout.write("@@bench " + json.dumps(o) + "\n")
    sys.stdout.flush()


def main():
    case = None
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            c = json.loads(line)
            cmd = c["cmd"]
            if cmd == "setup":
                torch.set_num_threads(c["threads"])
                if c.get("flushDenormal"):  # --flush-denormal: subnormal floats read and written as 0 (x86 FTZ/DAZ)
                    torch.set_flush_denormal(True)
                kind = c["case"]
                inputs = None
                if c.get("inputs"):  # the TF.js worker's batch (pretrain, loop): same tokens, locations, volumes
                    with open(c["inputs"], encoding="utf-8") as f:
                        inputs = json.load(f)
                case = ConvCase(c) if kind == "conv" else EncoderCase(c) if kind == "encoder" else training_case(kind, c, bench_input, inputs)
                amp = (", autocast bf16" if c.get("precision") == "bf16" else "") + (", denormals flushed" if c.get("flushDenormal") else "")
                reply({"ok": True, "backend": f"PyTorch {torch.__version__} (oneDNN {torch.backends.mkldnn.is_available()}){amp}",
                       "native": True, "threads": torch.get_num_threads(), "params": case.params})
            elif cmd in ("forward", "step"):
                t0 = time.perf_counter()
                getattr(case, cmd)()
                reply({"ok": True, "ms": (time.perf_counter() - t0) * 1000})
            elif cmd == "memory":
                reply({"ok": True, "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024})
            elif cmd == "exit":
                reply({"ok": True})
                break
            else:
                raise ValueError(f"unknown command {cmd}")
        except Exception as e:  # reported to the parent, which stops the bench
            reply({"ok": False, "error": f"{type(e).__name__}: {e}"})


if __name__ == "__main__":
    main()
