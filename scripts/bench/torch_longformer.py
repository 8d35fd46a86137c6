"""The engine's small Longformer text encoder in PyTorch (HF LongformerModel
semantics, HF state-dict names; METHOD.md §3), for the bench.

Longformer attention: the engine computes the sliding window in two equal
ways, a masked full [T, T] product for T ≤ 2w and, beyond, a banded one in
blocks of c = w/2 queries against the 3c keys around them (the block before,
itself, the block after) with the global tokens' keys appended as extra
columns (src/engine/networks/longformer-attention.ts). This file implements
the same two paths with the same switch, so the values equal HuggingFace's
LongformerSelfAttention (as the engine's do) and the FLOPs equal the
engine's. A full attention with a band mask would give the same values but
O(T²) work, and HF's own chunking (chunks of w overlapping by w/2) does more
work than the engine's blocks: neither would compare like with like."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

BIG = 1e9


class AttentionContext:
    """Masks shared by the layers of one forward pass (as the engine's AttentionContext)."""

    def __init__(self, valid, glob):
        self.valid = valid  # [N, T] 1 real token
        self.glob = glob  # [N, T] 1 global token (never padding)
        n, t = glob.shape
        positions = [torch.nonzero(glob[i] > 0).flatten().tolist() for i in range(n)]
        g = max([0] + [len(p) for p in positions])
        self.select = self.slot_valid = None
        if g:
            self.select = torch.zeros(n, g, t)
            self.slot_valid = torch.zeros(n, g)
            for i, p in enumerate(positions):
                for s, j in enumerate(p):
                    self.select[i, s, j] = 1
                    self.slot_valid[i, s] = 1


class LongformerSelfAttention(nn.Module):
    def __init__(self, hidden, heads, window, dropout):
        super().__init__()
        self.hidden, self.heads, self.window = hidden, heads, window
        self.head_dim = hidden // heads
        self.one_sided = window // 2
        for name in ("query", "key", "value", "query_global", "key_global", "value_global"):
            setattr(self, name, nn.Linear(hidden, hidden))
        self.dropout = nn.Dropout(dropout)

    def split(self, t):
        n, length, _ = t.shape
        return t.view(n, length, self.heads, self.head_dim).transpose(1, 2)

    def merge(self, t):
        n, _, length, _ = t.shape
        return t.transpose(1, 2).reshape(n, length, self.hidden)

    def forward(self, x, ctx):
        t = x.shape[1]
        kx, vx = self.key(x), self.value(x)
        q = self.split(self.query(x) * (1 / math.sqrt(self.head_dim)))
        if t <= 2 * self.window:
            local = self.local_full(q, self.split(kx), self.split(vx), ctx)
        else:
            local = self.local_banded(q, kx, vx, ctx)
        out = self.merge(local)
        if ctx.select is not None:
            g = self.global_rows(x, ctx)
            out = out * (1 - ctx.glob).unsqueeze(2) + ctx.select.transpose(1, 2) @ g
        return out

    def local_full(self, q, k, v, ctx):
        n, _, t, _ = q.shape
        pos = torch.arange(t)
        band = ((pos[:, None] - pos[None, :]).abs() <= self.one_sided).float()
        key_local = (ctx.valid * (1 - ctx.glob)).view(n, 1, 1, t)
        allowed = band.view(1, 1, t, t) * key_local + ctx.glob.view(n, 1, 1, t)
        scores = q @ k.transpose(-1, -2) + (allowed - 1) * BIG
        probs = self.dropout(torch.softmax(scores, -1) * ctx.valid.view(n, 1, t, 1))
        return probs @ v

    def local_banded(self, q, kx, vx, ctx):
        n, nh, t, dh = q.shape
        c = self.one_sided
        nb = -(-t // c)
        tp = nb * c
        k, v = self.split(kx), self.split(vx)
        q_b = F.pad(q, (0, 0, 0, tp - t)).view(n, nh, nb, c, dh)

        def windows(x):  # [N, nh, T, dh] → [N, nh, nb, 3c, dh]
            p = F.pad(x, (0, 0, c, tp - t + c)).view(n, nh, nb + 2, c, dh)
            return torch.cat([p[:, :, s : s + nb] for s in range(3)], dim=3)

        k_w, v_w = windows(k), windows(v)
        key_local = F.pad(ctx.valid * (1 - ctx.glob), (c, tp - t + c)).view(n, nb + 2, c)
        key_win = torch.cat([key_local[:, s : s + nb] for s in range(3)], dim=2).view(n, 1, nb, 1, 3 * c)
        a = torch.arange(c)[:, None]
        b = torch.arange(3 * c)[None, :]
        band = ((b - c - a).abs() <= c).float().view(1, 1, 1, c, 3 * c)
        scores = q_b @ k_w.transpose(-1, -2) + (band * key_win - 1) * BIG
        g = 0
        if ctx.select is not None:
            g = ctx.select.shape[1]
            k_g = self.split(ctx.select @ kx)
            v_g = self.split(ctx.select @ vx)
            s_g = (q_b.reshape(n, nh, tp, dh) @ k_g.transpose(-1, -2)).view(n, nh, nb, c, g)
            s_g = s_g + (ctx.slot_valid.view(n, 1, 1, 1, g) - 1) * BIG
            scores = torch.cat([s_g, scores], dim=4)
        q_valid = F.pad(ctx.valid, (0, tp - t)).view(n, 1, nb, c, 1)
        probs = self.dropout(torch.softmax(scores, -1) * q_valid)
        out = (probs[..., g:] @ v_w).reshape(n, nh, tp, dh)
        if g:
            out = out + probs[..., :g].reshape(n, nh, tp, g) @ v_g
        return out[:, :, :t]

    def global_rows(self, x, ctx):
        n, t, _ = x.shape
        xg = ctx.select @ x
        qg = self.split(self.query_global(xg) * (1 / math.sqrt(self.head_dim)))
        kg = self.split(self.key_global(x))
        vg = self.split(self.value_global(x))
        scores = qg @ kg.transpose(-1, -2) + (ctx.valid.view(n, 1, 1, t) - 1) * BIG
        return self.merge(self.dropout(torch.softmax(scores, -1)) @ vg)


class DenseResidualNorm(nn.Module):
    """HF SelfOutput / Output: LayerNorm(dropout(dense(h)) + residual)."""

    def __init__(self, i, o, eps, dropout):
        super().__init__()
        self.dense = nn.Linear(i, o)
        self.LayerNorm = nn.LayerNorm(o, eps=eps)
        self.dropout = nn.Dropout(dropout)

    def forward(self, h, residual):
        return self.LayerNorm(self.dropout(self.dense(h)) + residual)


class LongformerAttention(nn.Module):
    def __init__(self, hidden, heads, window, eps, dropout):
        super().__init__()
        self.self = LongformerSelfAttention(hidden, heads, window, dropout)
        self.output = DenseResidualNorm(hidden, hidden, eps, dropout)

    def forward(self, x, ctx):
        return self.output(self.self(x, ctx), x)


class Intermediate(nn.Module):
    def __init__(self, hidden, intermediate):
        super().__init__()
        self.dense = nn.Linear(hidden, intermediate)

    def forward(self, x):
        return F.gelu(self.dense(x))


class LongformerLayer(nn.Module):
    """HF LongformerLayer, post-LN: attention → dense + dropout + residual + LN → GELU FFN → dense + dropout + residual + LN."""

    def __init__(self, hidden, heads, intermediate, window, eps, dropout):
        super().__init__()
        self.attention = LongformerAttention(hidden, heads, window, eps, dropout)
        self.intermediate = Intermediate(hidden, intermediate)
        self.output = DenseResidualNorm(intermediate, hidden, eps, dropout)

    def forward(self, x, ctx):
        a = self.attention(x, ctx)
        return self.output(self.intermediate(a), a)


class Embeddings(nn.Module):
    """RoBERTa embeddings: pads get padding_idx as position, others count from padding_idx + 1."""

    def __init__(self, vocab_size, hidden, max_positions, pad_id, eps, dropout):
        super().__init__()
        self.pad_id = pad_id
        self.word_embeddings = nn.Embedding(vocab_size, hidden, padding_idx=pad_id)
        self.position_embeddings = nn.Embedding(max_positions, hidden, padding_idx=pad_id)
        self.token_type_embeddings = nn.Embedding(1, hidden)
        self.LayerNorm = nn.LayerNorm(hidden, eps=eps)
        self.dropout = nn.Dropout(dropout)

    def forward(self, ids):
        not_pad = (ids != self.pad_id).long()
        pos = torch.cumsum(not_pad, 1) * not_pad + self.pad_id
        e = self.word_embeddings(ids) + self.position_embeddings(pos) + self.token_type_embeddings(torch.zeros_like(ids))
        return self.dropout(self.LayerNorm(e))


class LayerStack(nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.layer = nn.ModuleList(layers)


class LongformerEncoder(nn.Module):
    """The engine's small LongformerEncoder (one token type, LN eps 1e-5); names are HF's."""

    def __init__(self, text, vocab_size, pad_id):
        super().__init__()
        h, p = text["hidden"], text["dropout"]
        self.embeddings = Embeddings(vocab_size, h, text["maxPositions"], pad_id, 1e-5, p)
        self.encoder = LayerStack(
            LongformerLayer(h, text["heads"], text["intermediate"], text["attentionWindow"], 1e-5, p) for _ in range(text["layers"])
        )
        self.max_words = text["maxWords"]

    def forward(self, ids, valid, glob, word_index):
        h = self.embeddings(ids)
        glob = (glob > 0).float() * valid  # padding never becomes global
        ctx = AttentionContext(valid, glob)
        for layer in self.encoder.layer:
            h = layer(h, ctx)
        # sub-word vectors summed per word slot; −1 (special, newline, padding) → no slot
        assign = (word_index.unsqueeze(-1) == torch.arange(self.max_words)).float()  # [N, T, W]
        words = assign.transpose(1, 2) @ h
        word_mask = (assign.sum(1) > 0).float()
        return h[:, 0], words, word_mask
