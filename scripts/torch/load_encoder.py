#!/usr/bin/env python3
"""Builds the workbench's image encoder in PyTorch from metadata.json alone
and loads its weights from the model.safetensors beside it.

    python3 load_encoder.py RUN/pretrain/metadata.json
    python3 load_encoder.py DIR/metadata.json --input x.f32 --output out.json

Without --input it prints the architecture and the number of tensors loaded.
--input: raw little-endian float32 in C order of metadata's input.shape
[N, 1, D, H, W] (D, H, W = the RAS+ volume's x, y, z, as nibabel gives it,
normalised as metadata's input.normalization says). --output: a JSON file
with "global", "layer4" and, with self-attention, "attention", each flat in
C order with its "shape".

Needs only PyTorch (and no package of the workbench); the safetensors file
is read by the small reader below, or by the `safetensors` package if it is
installed. Layout of both files: docs/formats.md, "Image encoder for PyTorch".
"""
import argparse
import json
import math
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
    "U8": torch.uint8, "BOOL": torch.bool,
}


def read_safetensors(path):
    """{name: tensor} from a .safetensors file (8-byte header length, JSON header, data)."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    data = blob[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype = DTYPES[info["dtype"]]
        raw = bytearray(data[start:end])
        t = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info["shape"]).clone()
    return out


def load_tensors(path):
    try:
        from safetensors.torch import load_file  # optional
    except ImportError:
        return read_safetensors(path)
    return load_file(path)


def conv3(i, o, stride=1, dilation=1):
    return nn.Conv3d(i, o, 3, stride=stride, padding=dilation, dilation=dilation, bias=False)


class BasicBlock(nn.Module):
    """MedicalNet's BasicBlock: conv-BN-ReLU-conv-BN + shortcut, ReLU."""

    def __init__(self, inplanes, planes, stride, dilation, shortcut, eps):
        super().__init__()
        self.conv1 = conv3(inplanes, planes, stride, dilation)
        self.bn1 = nn.BatchNorm3d(planes, eps=eps)
        self.conv2 = conv3(planes, planes, 1, dilation)
        self.bn2 = nn.BatchNorm3d(planes, eps=eps)
        self.stride, self.planes = stride, planes
        self.reshapes = stride != 1 or inplanes != planes
        self.shortcut = shortcut
        if self.reshapes and shortcut == "B":
            self.downsample = nn.Sequential(nn.Conv3d(inplanes, planes, 1, stride=stride, bias=False), nn.BatchNorm3d(planes, eps=eps))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if not self.reshapes:
            res = x
        elif self.shortcut == "B":
            res = self.downsample(x)
        else:  # 'A': subsample, then zero channels (parameter-free)
            res = F.avg_pool3d(x, kernel_size=1, stride=self.stride)
            pad = torch.zeros(res.shape[0], self.planes - res.shape[1], *res.shape[2:], dtype=res.dtype)
            res = torch.cat([res, pad], dim=1)
        return F.relu(out + res)


class SelfAttention(nn.Module):
    """SAGAN-style self-attention over the D*H*W positions: gamma * attended + x (without the residual: gamma * attended).

    network.attentionRegisters R > 0: R learned keys and values (register_key, register_value, [R, C]) after the
    positions'; the attention returned is the positions' columns only."""

    def __init__(self, c, scale=False, residual=True, registers=0):
        super().__init__()
        # network.attentionScale: scores q.k scaled by 1/sqrt(C) (absent in older metadata: unscaled)
        self.scale = 1.0 / math.sqrt(c) if scale else 1.0
        # network.attentionResidual: x added back to the output (absent in older metadata: added)
        self.residual = residual
        self.query_conv = nn.Conv3d(c, c, 1)
        self.key_conv = nn.Conv3d(c, c, 1)
        self.value_conv = nn.Conv3d(c, c, 1)
        self.gamma = nn.Parameter(torch.zeros(1))
        self.registers = registers
        if registers:
            self.register_key = nn.Parameter(torch.zeros(registers, c))
            self.register_value = nn.Parameter(torch.zeros(registers, c))

    def forward(self, x):
        n, c, d, h, w = x.shape
        k = self.key_conv(x).view(n, c, -1)
        q = self.query_conv(x).view(n, c, -1).permute(0, 2, 1)
        v = self.value_conv(x).view(n, c, -1)
        if self.registers:
            k = torch.cat([k, self.register_key.t().unsqueeze(0).expand(n, c, self.registers)], dim=2)
            v = torch.cat([v, self.register_value.t().unsqueeze(0).expand(n, c, self.registers)], dim=2)
        weights = torch.softmax(torch.bmm(q, k) * self.scale, dim=-1)
        out = torch.bmm(v, weights.permute(0, 2, 1)).view(n, c, d, h, w)
        attention = weights[:, :, : d * h * w] if self.registers else weights
        return (self.gamma * out + x if self.residual else self.gamma * out), attention


class ImageEncoder(nn.Module):
    def __init__(self, net):
        super().__init__()
        w, eps, shortcut = net["width"], net["batchNormEps"], net["shortcut"]
        self.conv1 = nn.Conv3d(1, w, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm3d(w, eps=eps)
        inplanes = w
        layout = [(w, 1, 1), (2 * w, 2, 1), (4 * w, net["layer3"]["stride"], net["layer3"]["dilation"]), (8 * w, net["layer4"]["stride"], net["layer4"]["dilation"])]
        for i, ((planes, stride, dilation), count) in enumerate(zip(layout, net["blocks"])):
            blocks = []
            for b in range(count):
                blocks.append(BasicBlock(inplanes, planes, stride if b == 0 else 1, dilation, shortcut, eps))
                inplanes = planes
            setattr(self, "layer%d" % (i + 1), nn.Sequential(*blocks))
        self.self_attention = SelfAttention(8 * w, net.get("attentionScale", False), net.get("attentionResidual", True), net.get("attentionRegisters", 0)) if net["selfAttention"] else None

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = F.max_pool3d(h, kernel_size=3, stride=2, padding=1)
        h = self.layer4(self.layer3(self.layer2(self.layer1(h))))
        attention = None
        if self.self_attention is not None:
            h, attention = self.self_attention(h)
        return {"layer4": h, "global": h.mean(dim=(2, 3, 4)), "attention": attention}


def load_encoder(metadata_path):
    """(encoder in eval mode, metadata) from metadata.json and the weights it names."""
    with open(metadata_path, encoding="utf-8") as f:
        meta = json.load(f)
    if meta.get("format") != "mrcl-image-encoder-1":
        raise SystemExit("%s: not an image encoder description (format %r)" % (metadata_path, meta.get("format")))
    model = ImageEncoder(meta["network"])
    weights = os.path.join(os.path.dirname(os.path.abspath(metadata_path)), meta["weights"])
    prefix = meta["keyPrefix"]
    tensors = load_tensors(weights)
    state = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
    # strict: every encoder tensor present, none left over
    model.load_state_dict(state, strict=True)
    return model.eval(), meta, len(state)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("metadata")
    ap.add_argument("--input")
    ap.add_argument("--output")
    args = ap.parse_args()
    model, meta, count = load_encoder(args.metadata)
    if not args.input:
        print(model)
        print("loaded %d tensors from %s" % (count, meta["weights"]))
        return
    shape = meta["input"]["shape"]
    with open(args.input, "rb") as f:
        raw = bytearray(f.read())
    x = torch.frombuffer(raw, dtype=torch.float32).reshape(shape)
    with torch.no_grad():
        out = model(x)
    result = {k: {"shape": list(v.shape), "data": v.flatten().tolist()} for k, v in out.items() if v is not None}
    text = json.dumps(result)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
