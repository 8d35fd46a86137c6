"""PyTorch reference models for the bench, mirroring the engine's at the
bench's config: ResNet-18-A 3D with self-attention (MedicalNet layout,
strided layer3/4; METHOD.md §2), the small Longformer text encoder (§3), the
projection heads and the learned cross-attention (§4) and the pretraining
losses (§5), so both frameworks do the same work with the same trainable
parameters.

The pretraining model's dimensions are not written here: they come from the
resolved config the TF.js worker uses (`resolveConfig({ image: { width } },
'bench')`), which it writes, with the batch's token ids, masks, word slots,
locations and (loop case) volume paths, into the JSON file named by the
setup's "inputs" (see torch-inputs.ts). Module names are the names of the
engine's state dict, so its weights load unchanged: `node --import tsx
scripts/bench/torch-parity.ts` loads them and checks that both compute the
same embeddings, cross-attention outputs and loss (to 1e-5), on the banded
and the full attention path.

The text encoder is in torch_longformer.py."""
import math
import random

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_longformer import BIG, LongformerEncoder


def shortcut_a(x, planes, stride):
    out = F.avg_pool3d(x, kernel_size=1, stride=stride)
    pad = torch.zeros(out.size(0), planes - out.size(1), *out.shape[2:], dtype=out.dtype)
    # MedicalNet builds it from out.data: no gradient through the shortcut
    return torch.cat([out.data, pad], dim=1)


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv3d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm3d(planes)
        self.conv2 = nn.Conv3d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm3d(planes)
        self.reshapes = stride != 1 or inplanes != planes
        self.planes, self.stride = planes, stride

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        residual = shortcut_a(x, self.planes, self.stride) if self.reshapes else x
        return F.relu(out + residual)


class SelfAttention3d(nn.Module):
    """The authors' block: one Dropout on key, query and value after their 1×1×1 convs."""

    def __init__(self, c, dropout=0.2):
        super().__init__()
        self.query_conv = nn.Conv3d(c, c, 1)
        self.key_conv = nn.Conv3d(c, c, 1)
        self.value_conv = nn.Conv3d(c, c, 1)
        self.gamma = nn.Parameter(torch.zeros(1))
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x):
        n, c, d, h, w = x.shape
        k = self.drop(self.key_conv(x)).view(n, c, -1)
        q = self.drop(self.query_conv(x)).view(n, c, -1).permute(0, 2, 1)
        a = torch.softmax(torch.bmm(q, k), dim=-1)
        v = self.drop(self.value_conv(x)).view(n, c, -1)
        out = torch.bmm(v, a.permute(0, 2, 1)).view(n, c, d, h, w)
        return self.gamma * out + x, a


class ResNet3d18(nn.Module):
    def __init__(self, width=64, dropout=0.25, attention_dropout=0.2):
        super().__init__()
        self.conv1 = nn.Conv3d(1, width, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm3d(width)
        self.inplanes = width
        self.layer1 = self._layer(width, 1)
        self.layer2 = self._layer(2 * width, 2)
        self.layer3 = self._layer(4 * width, 2)
        self.layer4 = self._layer(8 * width, 2)
        self.self_attention = SelfAttention3d(8 * width, attention_dropout)
        self.drop = nn.Dropout(dropout)

    def _layer(self, planes, stride):
        blocks = [BasicBlock(self.inplanes, planes, stride), BasicBlock(planes, planes)]
        self.inplanes = planes
        return nn.Sequential(*blocks)

    def train_from_layer3(self, frozen_bn="train"):
        """conv1–layer2 frozen, the rest in training mode. frozen_bn as the engine's
        image.frozenBatchNorm: 'train' (its default, the authors' code) keeps the frozen
        stages' batch norms on batch statistics; 'eval' on running statistics."""
        self.train()
        for m in (self.conv1, self.bn1, self.layer1, self.layer2):
            if frozen_bn == "eval":
                m.eval()
            for p in m.parameters():
                p.requires_grad_(False)

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.drop(F.max_pool3d(h, 3, stride=2, padding=1))
        h = self.drop(self.layer1(h))
        h = self.drop(self.layer2(h))
        l3 = self.drop(self.layer3(h))
        out, a = self.self_attention(self.layer4(l3))
        return l3, out, a


# --------------------------------------------------------------------- heads


def l2(x, eps=1e-12):
    """The engine's l2Normalize: x · rsqrt(max(‖x‖², eps²))."""
    return x * torch.rsqrt(torch.clamp(x.square().sum(-1, keepdim=True), min=eps * eps))


class Head(nn.Module):
    """Linear → ReLU → Linear, named as the engine's heads (fc1/fc2; conv1/conv2 for the local image head)."""

    def __init__(self, i, h, o, names=("fc1", "fc2")):
        super().__init__()
        self.names = names
        setattr(self, names[0], nn.Linear(i, h))
        setattr(self, names[1], nn.Linear(h, o))

    def forward(self, x):
        return getattr(self, self.names[1])(F.relu(getattr(self, self.names[0])(x)))


class LossWeights(nn.Module):
    def __init__(self):
        super().__init__()
        self.s_G = nn.Parameter(torch.zeros(()))
        self.s_L = nn.Parameter(torch.zeros(()))


class CrossAttention(nn.Module):
    def __init__(self, d, gamma):
        super().__init__()
        self.patch_local_atten_layer = CrossAttentionBlock(d, gamma)
        self.word_local_atten_layer = CrossAttentionBlock(d, gamma)


class CrossAttentionBlock(nn.Module):
    """One of the authors' modules: six d → d projections, a constant γ (a buffer, as the engine's default)."""

    def __init__(self, d, gamma):
        super().__init__()
        for name in ("key_img", "query_img", "value_img", "key_txt", "query_txt", "value_txt"):
            setattr(self, name, nn.Linear(d, d))
        self.register_buffer("gamma", torch.tensor([float(gamma)]))


# -------------------------------------------------------------------- losses

COSINE_EPS = 1e-8


def l2_rows(x):
    return x / torch.sqrt(torch.clamp(x.square().sum(1, keepdim=True), min=COSINE_EPS * COSINE_EPS))


def row_distance(a, b):
    return 1 - (a * b).sum(1)


def choose_negatives(anchors, candidates, k):
    """The engine's sampleNegatives: of k distinct other indices drawn uniformly, the closest (on values, no gradient)."""
    with torch.no_grad():
        d = (1 - l2_rows(anchors) @ l2_rows(candidates).t()).tolist()
    n = len(d)
    out = []
    for i in range(n):
        others = [j for j in range(n) if j != i]
        cand = others if k >= n - 1 else random.sample(others, k)
        out.append(min(cand, key=lambda j: (d[i][j], j)))
    return out


def hinge_sum(anchor, positive, negative, weights, margin):
    neg = row_distance(anchor, negative)
    if weights is not None:
        neg = neg * weights
    return F.relu(row_distance(anchor, positive) - neg + margin).sum()


class ContrastiveModel(nn.Module):
    """The engine's ContrastiveModel at the bench's config: image encoder, Longformer,
    global/local heads, learned cross-attention A and B, learned loss weights, and
    Eq. 1–3 with semi-hard negatives and location weighting (METHOD.md §2–§5)."""

    def __init__(self, config, vocab_size, pad_id):
        super().__init__()
        image, text, heads, loss = config["image"], config["text"], config["heads"], config["loss"]
        need = {
            "image.depth": (image["depth"], 18), "image.shortcut": (image["shortcut"], "A"),
            "image.selfAttention": (image["selfAttention"], True), "image.outputStride": (image["outputStride"], 32),
            "image.trainableFrom": (image["trainableFrom"], "layer3"), "text.pretrained": (text["pretrained"], ""),
            "heads.crossAttention": (heads["crossAttention"], "learned"), "loss.kind": (loss["kind"], "triplet"),
            "loss.components": (loss["components"], "both"), "loss.weighting": (loss["weighting"], "learned"),
            "loss.locationMode": (loss["locationMode"], "scale"), "loss.useLocation": (loss["useLocation"], True),
        }
        for name, (got, want) in need.items():
            if got != want:
                raise ValueError(f"torch_models: the PyTorch reference mirrors {name} = {want!r} only, the config has {got!r}")
        w = image["width"]
        d = heads["localDim"]
        # names as the engine's state dict (torchStateDict), so its weights load unchanged
        self.image_encoder = ResNet3d18(w, image["dropout"], image["attentionDropout"])
        self.image_encoder.train_from_layer3(image["frozenBatchNorm"])
        self.text_encoder = LongformerEncoder(text, vocab_size, pad_id)
        self.image_global_head = Head(8 * w, heads["globalDim"], heads["globalDim"])
        self.text_global_head = Head(text["hidden"], heads["globalDim"], heads["globalDim"])
        self.image_local_head = Head(4 * w, d, d, ("conv1", "conv2"))  # 1×1×1 convs = a Linear at every position
        hidden = heads["textLocalHidden"]
        if not hidden:
            raise ValueError("torch_models: heads.textLocalHidden = 0 (one Linear) is not mirrored")
        self.text_local_head = Head(text["hidden"], hidden, d)
        if heads["crossAttentionGammaTrainable"]:
            raise ValueError("torch_models: heads.crossAttentionGammaTrainable is not mirrored")
        self.cross_attention = CrossAttention(d, heads["crossAttentionGamma"])
        self.residual = heads["crossAttentionResidual"]
        self.factor = (1 / math.sqrt(d) if heads["crossAttentionScale"] else 1) / heads["crossAttentionTemperature"]
        self.loss_weights = LossWeights()
        self.loss_config = loss
        self.k = {"random": 1, "semihard": 2}.get(loss["negatives"], loss["negatives"])

    def attend(self, v, w, m):
        m_row, m_col = m.unsqueeze(1), m.unsqueeze(2)
        a, b = self.cross_attention.patch_local_atten_layer, self.cross_attention.word_local_atten_layer
        s_a = torch.softmax((a.query_img(v) @ a.key_txt(w).transpose(1, 2)) * self.factor + (m_row - 1) * BIG, -1) * m_row
        out_a = s_a @ a.value_txt(w)
        q_b = b.query_txt(w)
        s_b = torch.softmax((q_b @ b.key_img(v).transpose(1, 2)) * self.factor, -1) * m_col
        out_b = s_b @ b.value_img(v)
        if self.residual:
            out_a = out_a * a.gamma + v
            out_b = out_b * b.gamma + q_b
        return l2(out_a), l2(out_b * m_col)

    def forward(self, x, ids, valid, glob, word_index):
        layer3, out, _ = self.image_encoder(x)
        cls, words, word_mask = self.text_encoder(ids, valid, glob, word_index)
        img_g = l2(self.image_global_head(out.mean(dim=(2, 3, 4))))
        txt_g = l2(self.text_global_head(cls))
        v = l2(self.image_local_head(layer3.flatten(2).transpose(1, 2)))  # [N, P, d], p = (d·H + h)·W + w
        w = l2(self.text_local_head(words)) * word_mask.unsqueeze(2)  # [N, W, d]
        v_hat, w_hat = self.attend(v, w, word_mask)
        return img_g, txt_g, v, v_hat, w, w_hat, word_mask

    def loss(self, outputs, locations):
        img_g, txt_g, v, v_hat, w, w_hat, word_mask = outputs
        lc = self.loss_config
        n = img_g.shape[0]
        # Eq. 1: location-weighted global triplet, both anchor directions
        neg_i = choose_negatives(img_g, txt_g, self.k)
        neg_t = choose_negatives(txt_g, img_g, self.k)
        weights = lambda neg: torch.tensor([lc["locationWeight"] if locations[i] == locations[j] else 1.0 for i, j in enumerate(neg)])
        img, txt = l2_rows(img_g), l2_rows(txt_g)
        l_g = (hinge_sum(img, txt, txt[neg_i], weights(neg_i), lc["globalMargin"]) + hinge_sum(txt, img, img[neg_t], weights(neg_t), lc["globalMargin"])) / (2 * n)
        # Eq. 2: local triplet on the flattened per-case views, padded word slots zeroed
        m = word_mask.unsqueeze(2)
        fv, fvh, fw, fwh = v.reshape(n, -1), v_hat.reshape(n, -1), (w * m).reshape(n, -1), (w_hat * m).reshape(n, -1)
        negs = [choose_negatives(a, b, self.k) for a, b in ((fv, fvh), (fvh, fv), (fw, fwh), (fwh, fw))]
        fv, fvh, fw, fwh = l2_rows(fv), l2_rows(fvh), l2_rows(fw), l2_rows(fwh)
        mg = lc["localMargin"]
        image_term = hinge_sum(fv, fvh, fvh[negs[0]], None, mg) + hinge_sum(fvh, fv, fv[negs[1]], None, mg)
        text_term = hinge_sum(fw, fwh, fwh[negs[2]], None, mg) + hinge_sum(fwh, fw, fw[negs[3]], None, mg)
        l_l = (image_term + text_term) / (2 * n)
        # Eq. 3, learned weighting
        s_g, s_l = self.loss_weights.s_G, self.loss_weights.s_L
        return torch.exp(-s_g) * l_g + s_g + torch.exp(-s_l) * l_l + s_l


# ---------------------------------------------------------------- the cases


def load_volume(path, shape):
    """A synthetic cohort's image as the engine's Dataset prepares it: RAS+, min–max to [0, 1].
    The cohort is synthesised at data.shape, so the engine's resampling is the identity."""
    import nibabel as nib

    img = nib.as_closest_canonical(nib.load(path))
    data = np.asarray(img.dataobj, dtype=np.float64)
    if list(data.shape) != list(shape):
        raise ValueError(f"{path}: dims {list(data.shape)} differ from data.shape {list(shape)} (the bench does not resample)")
    lo, hi = data.min(), data.max()
    data = (data - lo) / (hi - lo) if hi > lo else np.zeros_like(data)
    return torch.from_numpy(data.astype(np.float32))


class TextInputs:
    def __init__(self, b):
        self.ids = torch.tensor(b["inputIds"], dtype=torch.long)
        self.valid = torch.tensor(b["attentionMask"], dtype=torch.float32)
        self.glob = torch.tensor(b["globalAttentionMask"], dtype=torch.float32)
        self.word_index = torch.tensor(b["wordIndex"], dtype=torch.long)
        self.locations = b["locations"]


class TrainingCase:
    """pretrain: fixed sin-wave images, the TF.js worker's token batch. loop: the TF.js
    worker's batches of a synthetic cohort, each step loading its volumes with nibabel
    (as a PyTorch Dataset does) and taking one AdamW step. finetune: encoder + head."""

    def __init__(self, kind, s, bench_input, inputs=None):
        d, h, w = s["size"]
        n = s["batch"]
        torch.manual_seed(1)
        random.seed(1)
        self.kind = kind
        self.cursor = 0
        # precision "bf16": the forward pass under torch.autocast("cpu", bfloat16), the losses in fp32
        self.bf16 = s.get("precision") == "bf16"
        if kind in ("pretrain", "loop"):
            if inputs is None:
                raise ValueError(f"the {kind} case needs the TF.js worker's inputs file (setup.inputs)")
            cfg = inputs["config"]
            self.model = ContrastiveModel(cfg, inputs["vocab"]["size"], inputs["vocab"]["padId"])
            self.batches = inputs["batches"]
            self.shape = inputs.get("shape")
            lr, wd = cfg["pretrain"]["lr"], cfg["pretrain"]["weightDecay"]
            if kind == "pretrain":
                self.x = bench_input([n, d, h, w, 1])
            else:
                first = self._images(self.batches[0])
                want = self.batches[0]["inputSum"]
                flat = first.double().flatten()  # [N, 1, X, Y, Z]: the engine's [N, X, Y, Z, 1] order
                got = float((flat * (torch.arange(flat.numel(), dtype=torch.float64) % 97 + 1)).sum())
                if abs(got - want) > 1e-4 * max(1.0, abs(want)):
                    raise ValueError(f"loop case: the volumes read with nibabel sum to {got}, the engine's input to {want}")
        else:
            lr, wd = 1e-4, 0.01
            self.model = nn.ModuleDict({"image": ResNet3d18(s["width"]), "head": nn.Sequential(
                nn.Linear(8 * s["width"], 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 1))})
            self.model["image"].train_from_layer3()
            self.x = bench_input([n, d, h, w, 1])
            self.labels = torch.tensor([float(i % 2) for i in range(n)])
        self.trainable = [p for p in self.model.parameters() if p.requires_grad]
        self.params = sum(p.numel() for p in self.trainable)
        self.optimizer = torch.optim.AdamW(self.trainable, lr=lr, weight_decay=wd)

    def _images(self, b):
        return torch.stack([load_volume(p, self.shape) for p in b["images"]]).unsqueeze(1)  # [N, 1, X, Y, Z]

    def _loss(self):
        amp = autocast(self.bf16)
        if self.kind == "finetune":
            with amp:
                _, out, _ = self.model["image"](self.x)
                logits = self.model["head"](out.mean(dim=(2, 3, 4))).squeeze(-1)
            return F.binary_cross_entropy_with_logits(logits.float(), self.labels)
        b = self.batches[self.cursor % len(self.batches)]
        self.cursor += 1
        x = self.x if self.kind == "pretrain" else self._images(b)
        t = TextInputs(b)
        with amp:
            out = self.model(x, t.ids, t.valid, t.glob, t.word_index)
        return self.model.loss(to_float(out), t.locations)

    def forward(self):
        with torch.no_grad():
            self._loss().item()

    def step(self):
        self.optimizer.zero_grad(set_to_none=True)
        loss = self._loss()
        loss.backward()
        self.optimizer.step()
        loss.item()


def autocast(enabled):
    """torch.autocast on CPU in bfloat16 when `enabled` (--precision bf16), else a no-op context."""
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=enabled)


def to_float(o):
    """Floating tensors of a (nested) model output as float32, for the losses."""
    if isinstance(o, torch.Tensor):
        return o.float() if o.is_floating_point() else o
    if isinstance(o, (list, tuple)):
        return type(o)(to_float(v) for v in o)
    if isinstance(o, dict):
        return {k: to_float(v) for k, v in o.items()}
    return o


def training_case(kind, setup, bench_input, inputs=None):
    if kind not in ("pretrain", "finetune", "loop"):
        raise ValueError(f'unknown bench case "{kind}"')
    return TrainingCase(kind, setup, bench_input, inputs)
