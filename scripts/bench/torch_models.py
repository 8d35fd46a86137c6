"""PyTorch reference models for the bench: ResNet-18-A 3D with self-attention
(MedicalNet layout, strided layer3/4, as the engine; METHOD.md §2)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


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
    def __init__(self, c):
        super().__init__()
        self.query_conv = nn.Conv3d(c, c, 1)
        self.key_conv = nn.Conv3d(c, c, 1)
        self.value_conv = nn.Conv3d(c, c, 1)
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        n, c, d, h, w = x.shape
        q = self.query_conv(x).view(n, c, -1).permute(0, 2, 1)
        k = self.key_conv(x).view(n, c, -1)
        a = torch.softmax(torch.bmm(q, k), dim=-1)
        v = self.value_conv(x).view(n, c, -1)
        out = torch.bmm(v, a.permute(0, 2, 1)).view(n, c, d, h, w)
        return self.gamma * out + x, a


class ResNet3d18(nn.Module):
    def __init__(self, width=64, dropout=0.25):
        super().__init__()
        self.conv1 = nn.Conv3d(1, width, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm3d(width)
        self.inplanes = width
        self.layer1 = self._layer(width, 1)
        self.layer2 = self._layer(2 * width, 2)
        self.layer3 = self._layer(4 * width, 2)
        self.layer4 = self._layer(8 * width, 2)
        self.self_attention = SelfAttention3d(8 * width)
        self.drop = nn.Dropout(dropout)

    def _layer(self, planes, stride):
        blocks = [BasicBlock(self.inplanes, planes, stride), BasicBlock(planes, planes)]
        self.inplanes = planes
        return nn.Sequential(*blocks)

    def train_from_layer3(self):
        """conv1–layer2 frozen (parameters and BN statistics), the rest in training mode."""
        self.train()
        for m in (self.conv1, self.bn1, self.layer1, self.layer2):
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


REPORTS_WORDS = [18, 17, 13, 20, 16, 15]  # word counts of BENCH_REPORTS in training-cases.ts
LOCATIONS = [0, 1, 2, 1, 0, 0]


class SmallTextEncoder(nn.Module):
    """The small text encoder's shape (2 layers, hidden 64, 2 heads, FFN 256). Its
    reports are shorter than half the attention window, where Longformer's
    sliding window equals full attention, so a plain post-LN transformer
    does the same work."""

    def __init__(self, vocab=1000, hidden=64, layers=2, heads=2, ffn=256, positions=1026, dropout=0.1):
        super().__init__()
        self.word = nn.Embedding(vocab, hidden)
        self.pos = nn.Embedding(positions, hidden)
        self.norm = nn.LayerNorm(hidden, eps=1e-5)
        self.drop = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(hidden, heads, ffn, dropout, activation="gelu", batch_first=True)
        self.layers = nn.TransformerEncoder(layer, layers)

    def forward(self, ids, mask):
        pos = torch.arange(2, ids.shape[1] + 2).unsqueeze(0)
        h = self.drop(self.norm(self.word(ids) + self.pos(pos)))
        return self.layers(h, src_key_padding_mask=~mask)


def mlp(i, h, o):
    return nn.Sequential(nn.Linear(i, h), nn.ReLU(), nn.Linear(h, o))


def cosine_distances(a, b):
    return 1 - F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).transpose(-1, -2)


class ContrastiveModel(nn.Module):
    """Image encoder, text encoder, heads, both cross-attentions and the learned
    loss weights of the engine's ContrastiveModel (METHOD.md §2–§5)."""

    def __init__(self, width, hidden=64, global_dim=512, local_dim=256, max_words=128):
        super().__init__()
        self.image = ResNet3d18(width)
        self.image.train_from_layer3()
        self.text = SmallTextEncoder(hidden=hidden)
        self.image_global = mlp(8 * width, global_dim, global_dim)
        self.text_global = mlp(hidden, global_dim, global_dim)
        self.image_local = nn.Sequential(nn.Conv3d(4 * width, local_dim, 1), nn.ReLU(), nn.Conv3d(local_dim, local_dim, 1))
        self.text_local = nn.Linear(hidden, local_dim)
        self.s_g = nn.Parameter(torch.zeros(()))
        self.s_l = nn.Parameter(torch.zeros(()))
        self.max_words = max_words

    def loss(self, x, ids, mask, word_index, word_mask, locations):
        layer3, out, _ = self.image(x)
        tokens = self.text(ids, mask)
        n = x.shape[0]
        # words: sub-token vectors summed into word slots
        words = torch.zeros(n, self.max_words, tokens.shape[-1]).scatter_add(1, word_index.unsqueeze(-1).expand(-1, -1, tokens.shape[-1]), tokens)
        img_g = F.normalize(self.image_global(out.mean(dim=(2, 3, 4))), dim=-1)
        txt_g = F.normalize(self.text_global(tokens[:, 0]), dim=-1)
        v = F.normalize(self.image_local(layer3).flatten(2).transpose(1, 2), dim=-1)  # [N, P, d]
        w = F.normalize(self.text_local(words), dim=-1) * word_mask.unsqueeze(-1)  # [N, W, d]
        s_a = torch.softmax((v @ w.transpose(1, 2)).masked_fill(~word_mask.unsqueeze(1), -1e9), dim=-1)
        v_hat = s_a @ w
        s_b = torch.softmax(w @ v.transpose(1, 2), dim=-1)
        w_hat = s_b @ v
        # global triplet with location weighting, closest of 2 random negatives
        d = cosine_distances(img_g, txt_g)
        same = (locations.unsqueeze(0) == locations.unsqueeze(1)).float()
        d_neg = d * (1 - 0.5 * same) + torch.eye(n) * 1e9
        cand = torch.stack([torch.randperm(n)[:2] for _ in range(n)])
        neg = d_neg.gather(1, cand).min(dim=1).values
        l_g = F.relu(d.diag() - neg + 0.25).mean()
        # local triplet: matched vs mismatched cross-attended representations
        pos_v = (1 - (v * v_hat).sum(-1)).mean(-1)
        pos_w = ((1 - (w * w_hat).sum(-1)) * word_mask).sum(-1) / word_mask.sum(-1)
        roll = torch.roll(torch.arange(n), 1)
        neg_v = (1 - (v * v_hat[roll]).sum(-1)).mean(-1)
        neg_w = ((1 - (w * w_hat[roll]).sum(-1)) * word_mask).sum(-1) / word_mask.sum(-1)
        l_l = (F.relu(pos_v - neg_v + 0.4) + F.relu(pos_w - neg_w + 0.4)).mean()
        return torch.exp(-self.s_g) * l_g + self.s_g + torch.exp(-self.s_l) * l_l + self.s_l


class TrainingCase:
    def __init__(self, kind, s, bench_input):
        d, h, w = s["size"]
        n = s["batch"]
        torch.manual_seed(1)
        self.x = bench_input([n, d, h, w, 1])
        self.kind = kind
        if kind == "pretrain":
            self.model = ContrastiveModel(s["width"])
            words = [REPORTS_WORDS[i % len(REPORTS_WORDS)] for i in range(n)]
            t = max(words) + 6
            self.ids = torch.randint(3, 1000, (n, t))
            self.mask = torch.zeros(n, t, dtype=torch.bool)
            self.word_index = torch.zeros(n, t, dtype=torch.long)
            self.word_mask = torch.zeros(n, self.model.max_words, dtype=torch.bool)
            for i, k in enumerate(words):
                self.mask[i, : k + 4] = True
                self.word_index[i, 1 : k + 3] = torch.arange(k + 2).clamp(max=k - 1)
                self.word_mask[i, :k] = True
            self.locations = torch.tensor([LOCATIONS[i % len(LOCATIONS)] for i in range(n)])
        else:
            self.model = nn.ModuleDict({"image": ResNet3d18(s["width"]), "head": nn.Sequential(
                nn.Linear(8 * s["width"], 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 1))})
            self.model["image"].train_from_layer3()
            self.labels = torch.tensor([float(i % 2) for i in range(n)])
        self.trainable = [p for p in self.model.parameters() if p.requires_grad]
        self.params = sum(p.numel() for p in self.trainable)
        self.optimizer = torch.optim.AdamW(self.trainable, lr=1e-4, weight_decay=0.01)

    def _loss(self):
        if self.kind == "pretrain":
            return self.model.loss(self.x, self.ids, self.mask, self.word_index, self.word_mask, self.locations)
        _, out, _ = self.model["image"](self.x)
        logits = self.model["head"](out.mean(dim=(2, 3, 4))).squeeze(-1)
        return F.binary_cross_entropy_with_logits(logits, self.labels)

    def forward(self):
        with torch.no_grad():
            self._loss()

    def step(self):
        self.optimizer.zero_grad(set_to_none=True)
        self._loss().backward()
        self.optimizer.step()


def training_case(kind, setup, bench_input):
    if kind not in ("pretrain", "finetune"):
        raise ValueError(f'unknown bench case "{kind}"')
    return TrainingCase(kind, setup, bench_input)
