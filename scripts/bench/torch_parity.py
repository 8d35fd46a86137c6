"""PyTorch side of scripts/bench/torch-parity.ts: loads the engine's weights
(safetensors, PyTorch names and layout) into torch_models.ContrastiveModel,
runs the same batch and prints the largest difference of each output; exit
status 1 when one exceeds 1e-5."""
import json
import struct
import sys

import numpy as np
import torch

from torch_models import ContrastiveModel, TextInputs

DTYPES = {"F32": np.float32, "I64": np.int64, "I32": np.int32}


def read_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8 : 8 + n])
    out = {}
    for name, m in header.items():
        if name == "__metadata__":
            continue
        a, b = m["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(raw[8 + n + a : 8 + n + b], dtype=DTYPES[m["dtype"]]).reshape(m["shape"]).copy())
    return out


def main(weights, io_path):
    with open(io_path, encoding="utf-8") as f:
        io = json.load(f)
    model = ContrastiveModel(io["config"], io["vocab"]["size"], io["vocab"]["padId"])
    model.load_state_dict(read_safetensors(weights), strict=True)
    model.train(io["training"])
    if io["training"]:  # the frozen stages' batch norms as configured (train_from_layer3 set them)
        model.image_encoder.train_from_layer3(io["config"]["image"]["frozenBatchNorm"])
    n, d, h, w = io["shape"]
    x = torch.tensor(io["x"], dtype=torch.float32).reshape(n, 1, d, h, w)
    t = TextInputs(io["batch"])
    with torch.no_grad():
        outputs = model(x, t.ids, t.valid, t.glob, t.word_index)
        loss = model.loss(outputs, t.locations)
    img_g, txt_g, v, v_hat, words, w_hat, _ = outputs
    worst = 0.0
    for name, got in (("imageGlobal", img_g), ("textGlobal", txt_g), ("imageLocal", v), ("textLocal", words),
                      ("reportWeightedImage", v_hat), ("imageWeightedText", w_hat), ("loss", loss.reshape(1))):
        want = torch.tensor(io["values"][name], dtype=torch.float32).reshape(got.shape)
        diff = float((got - want).abs().max())
        worst = max(worst, diff)
        print(f"  {name:20s} {str(tuple(got.shape)):16s} max |torch − engine| {diff:.1e}")
    sys.exit(0 if worst <= 1e-5 else 1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
