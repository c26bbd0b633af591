"""Training the command model's head in numpy: one hidden ReLU layer, softmax over the classes, Adam,
weight decay, class-balanced loss (every command counts as much as the large "not a command" class),
"not a command" weighted `negative_weight` times more, optional per-clip weights, and Gaussian noise on
the standardised inputs. Deterministic for a given seed. `train_head` makes one member; `stack` joins
members trained from other seeds into the head that ships."""

from __future__ import annotations

import numpy as np

from voice_guide.understanding.command_model import MEMBER_WEIGHTS, NOT_A_COMMAND, Head


def train_head(X: np.ndarray, labels: list[str], classes: list[str], *, embedding: str, vocab_hash: str,
               hidden: int = 256, epochs: int = 60, batch: int = 128, lr: float = 2e-3, decay: float = 1e-4,
               input_noise: float = 0.3, negative_weight: float = 3.0, seed: int = 0, card: str = "",
               sample_weight: np.ndarray | None = None) -> Head:
    rng = np.random.default_rng(seed)
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[label] for label in labels])
    mean = X.mean(0)
    scale = X.std(0) + 1e-3
    Z = ((X - mean) / scale).astype(np.float32)
    n, d = Z.shape
    k = len(classes)
    counts = np.bincount(y, minlength=k).astype(np.float64)
    class_weight = np.where(counts > 0, n / (k * np.maximum(counts, 1)), 0.0)
    class_weight = np.minimum(class_weight, 20.0)
    # "Not a command" counts more than its balanced share: acting on room talk is worse than missing.
    class_weight[index[NOT_A_COMMAND]] *= negative_weight
    class_weight = class_weight.astype(np.float32)
    params = {
        "w1": (rng.standard_normal((d, hidden)) * np.sqrt(2.0 / d)).astype(np.float32),
        "b1": np.zeros(hidden, np.float32),
        "w2": (rng.standard_normal((hidden, k)) * np.sqrt(1.0 / hidden)).astype(np.float32),
        "b2": np.zeros(k, np.float32),
    }
    m = {name: np.zeros_like(v) for name, v in params.items()}
    v2 = {name: np.zeros_like(v) for name, v in params.items()}
    step = 0
    for epoch in range(epochs):
        order = rng.permutation(n)
        rate = lr * 0.5 * (1 + np.cos(np.pi * epoch / epochs))
        for start in range(0, n, batch):
            idx = order[start : start + batch]
            xb = Z[idx] + rng.standard_normal((len(idx), d)).astype(np.float32) * input_noise
            yb = y[idx]
            wb = class_weight[yb] if sample_weight is None else class_weight[yb] * sample_weight[idx]
            h_pre = xb @ params["w1"] + params["b1"]
            h = np.maximum(h_pre, 0)
            logits = h @ params["w2"] + params["b2"]
            logits -= logits.max(1, keepdims=True)
            p = np.exp(logits)
            p /= p.sum(1, keepdims=True)
            g = p.copy()
            g[np.arange(len(idx)), yb] -= 1
            g *= (wb / wb.sum())[:, None]
            grads = {"w2": h.T @ g, "b2": g.sum(0)}
            gh = (g @ params["w2"].T) * (h_pre > 0)
            grads["w1"] = xb.T @ gh
            grads["b1"] = gh.sum(0)
            step += 1
            for name in params:
                gr = grads[name] + (decay * params[name] if name.startswith("w") else 0)
                m[name] = 0.9 * m[name] + 0.1 * gr
                v2[name] = 0.999 * v2[name] + 0.001 * gr * gr
                mh = m[name] / (1 - 0.9**step)
                vh = v2[name] / (1 - 0.999**step)
                params[name] -= (rate * mh / (np.sqrt(vh) + 1e-8)).astype(np.float32)
    return Head(tuple(classes), embedding, vocab_hash, mean.astype(np.float32), scale.astype(np.float32),
                params["w1"][None], params["b1"][None], params["w2"][None], params["b2"][None], card=card)


def stack(heads: list[Head]) -> Head:
    """One head whose members are `heads`' (trained alike, on the same speech: one input scaling)."""
    first = heads[0]
    for head in heads[1:]:
        same = (head.classes, head.embedding, head.vocab_hash) == (first.classes, first.embedding, first.vocab_hash)
        if not same or not (np.array_equal(head.mean, first.mean) and np.array_equal(head.scale, first.scale)):
            raise ValueError("only heads trained on the same speech for the same vocabulary can be stacked")
    joined = {k: np.concatenate([getattr(h, k) for h in heads]) for k in MEMBER_WEIGHTS}
    return Head(first.classes, first.embedding, first.vocab_hash, first.mean, first.scale, card=first.card, **joined)
