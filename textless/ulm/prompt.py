"""Prompt tuning of a frozen unit LM for classification, after SpeechPrompt (Chang et al. 2022).

The ULM is frozen. Trainable: ``prompt_length`` input vectors placed before ``[eos, units]``
(in the scaled embedding space; they take positions like tokens) and, with ``deep=True``,
``prompt_length`` key/value vectors per layer and head (prefix tuning: the model attends to them
at every layer). A verbalizer maps class ``c`` to unit id ``verbalizer[c]``: the class scores
are the LM's next-token logits of those units after the last input unit, and training
minimises cross-entropy over these class scores (SpeechPrompt's generation of the label unit,
restricted to the label units).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..checkpoint import config_from_dict, load_checkpoint, save_checkpoint
from ..distributed import average_gradients, init_distributed
from ..errors import TextlessError
from ..files import atomic_open
from ..trainer import RunLog, check_resume, check_world, config_json, load_state, save_state
from .model import UnitLM

KIND = "ulm.prompt"


@dataclass(frozen=True)
class PromptConfig:
    """Prompt shape and the verbalizer: ``classes[c]`` is predicted as unit ``verbalizer[c]``."""

    classes: tuple[str, ...]
    verbalizer: tuple[int, ...]
    prompt_length: int = 8
    deep: bool = False
    dim: int = 0              # of the ULM it was trained for (checked at load)
    num_layers: int = 0

    def __post_init__(self):
        if len(self.classes) != len(self.verbalizer) or len(set(self.verbalizer)) != len(self.verbalizer):
            raise ValueError("one distinct verbalizer unit per class")


class PromptTuner(nn.Module):
    """A frozen :class:`UnitLM` with trainable prompts. ``forward`` gives class logits."""

    def __init__(self, ulm: UnitLM, config: PromptConfig, seed: int = 0):
        super().__init__()
        if config.dim and (config.dim, config.num_layers) != (ulm.config.dim, ulm.config.num_layers):
            raise TextlessError("this prompt was trained for another unit LM size")
        self.ulm = ulm.eval()
        for p in self.ulm.parameters():
            p.requires_grad_(False)
        self.config = config
        c = ulm.config
        g = torch.Generator().manual_seed(seed)
        # start from the (scaled) embeddings of random units, as in prompt-tuning practice
        init = torch.randint(0, c.vocab_size, (config.prompt_length,), generator=g)
        with torch.no_grad():
            start = ulm.embed.weight[ulm.unit_to_token[init].cpu()].detach().cpu() * ulm.embed_scale
        self.prompt = nn.Parameter(start.clone())
        if config.deep:
            shape = (c.num_layers, c.num_heads, config.prompt_length, c.dim // c.num_heads)
            self.deep_k = nn.Parameter(torch.randn(shape, generator=g) * 0.02)
            self.deep_v = nn.Parameter(torch.randn(shape, generator=g) * 0.02)
        self.register_buffer("label_tokens", ulm.tokens_of(torch.tensor(config.verbalizer)).cpu(),
                             persistent=False)

    def train(self, mode: bool = True):
        super().train(mode)
        self.ulm.eval()  # frozen: no dropout
        return self

    def forward(self, units: Sequence[torch.Tensor]) -> torch.Tensor:
        """Unit sequences (ids) -> class logits ``[B, C]``."""
        ulm = self.ulm
        device = ulm.device
        B = len(units)
        T = max(len(u) for u in units) + 1
        tokens = torch.full((B, T), ulm.pad, dtype=torch.long, device=device)
        last = torch.zeros(B, dtype=torch.long, device=device)
        for i, u in enumerate(units):
            tokens[i, 0] = ulm.eos
            tokens[i, 1:len(u) + 1] = ulm.tokens_of(u).to(device)
            last[i] = len(u)
        cache = None
        if self.config.deep:
            P = self.config.prompt_length
            cache = ulm.new_cache(B, 2 * P + T, dtype=self.deep_k.dtype)
            for layer in range(ulm.config.num_layers):
                cache.k[layer][:, :, :P] = self.deep_k[layer].to(device)
                cache.v[layer][:, :, :P] = self.deep_v[layer].to(device)
            cache.length = cache.prefix = P
        prefix = self.prompt.to(device).unsqueeze(0).expand(B, -1, -1)
        logits = ulm(tokens, cache, prefix=prefix)
        return logits[torch.arange(B, device=device), last][:, self.label_tokens.to(device)]

    def predict(self, units: Sequence[torch.Tensor], batch_size: int = 32) -> list[int]:
        """Class indices of unit sequences."""
        out = []
        with torch.no_grad():
            for i in range(0, len(units), batch_size):
                out += self(units[i:i + batch_size]).argmax(-1).tolist()
        return out

    def prompt_state(self) -> dict:
        return {k: v for k, v in self.state_dict().items() if not k.startswith("ulm.")}


def train_prompt(
    ulm: UnitLM, units: Sequence[torch.Tensor], labels: Sequence[int], config: PromptConfig, *,
    steps: int = 200, lr: float = 1e-2, batch_size: int = 16, seed: int = 1,
    state: dict | None = None, on_step: Callable | None = None, rank: int = 0, world: int = 1,
) -> tuple[PromptTuner, list[float]]:
    """Fit the prompts on ``units`` with class indices ``labels``; returns the tuner and the
    losses of the steps taken.

    Step ``s`` draws ``batch_size * world`` utterances (a permutation seeded by ``(seed, s)``,
    repeated when the corpus is smaller); rank ``r`` takes slice ``r`` and the gradients are
    averaged over ranks. ``state``: a run folder's ``state.pt`` (``step``, ``prompt``,
    ``optimizer``) to resume from; the frozen LM has no dropout, so the resumed steps equal an
    uninterrupted run's.
    ``on_step(step, loss, tuner, optimizer)`` runs after each step (``step`` counts from 1)."""
    if len(units) != len(labels) or not units:
        raise TextlessError("need as many labels as utterances, and at least one")
    tuner = PromptTuner(ulm, config, seed=seed).to(ulm.device)
    params = [p for p in tuner.parameters() if p.requires_grad]
    optim = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    start = 0
    if state is not None:
        tuner.load_state_dict(state["prompt"], strict=False)  # the frozen LM is not in it
        optim.load_state_dict(state["optimizer"])
        start = int(state["step"])
    y = torch.tensor(labels, dtype=torch.long, device=ulm.device)
    losses = []
    tuner.train()
    for step in range(start, steps):
        g = torch.Generator().manual_seed(seed * 1_000_003 + step)
        order = torch.randperm(len(units), generator=g).repeat(-(-batch_size * world // len(units)))
        idx = order[rank * batch_size:(rank + 1) * batch_size].tolist()
        loss = F.cross_entropy(tuner([units[i] for i in idx]), y[idx])
        optim.zero_grad(set_to_none=True)
        loss.backward()
        average_gradients(params, world)
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optim.step()
        losses.append(float(loss.detach()))
        if on_step is not None:
            on_step(step + 1, losses[-1], tuner, optim)
    tuner.eval()
    return tuner, losses


def save_prompt(path: str | os.PathLike, tuner: PromptTuner) -> Path:
    return save_checkpoint(path, KIND, tuner.config, tuner.prompt_state())


def load_prompt(path: str | os.PathLike, ulm: UnitLM) -> PromptTuner:
    config, state = load_checkpoint(path, KIND)
    tuner = PromptTuner(ulm, config_from_dict(PromptConfig, config))
    missing, unexpected = tuner.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.startswith("ulm.")]
    if missing or unexpected:
        raise TextlessError(f"{path}: missing {missing}, unexpected {unexpected}")
    return tuner.eval()


# ---------------------------------------------------------------------------------- files
@dataclass(frozen=True)
class PromptTrainConfig:
    """A ``textless train prompt`` run (the learning rate is constant: ``steps`` may grow on resume)."""

    ulm: str
    units: str
    labels: str
    out_dir: str
    valid_units: str | None = None
    prompt_length: int = 8
    deep: bool = False
    steps: int = 200
    lr: float = 1e-2
    batch_size: int = 16
    save_every: int = 100
    valid_every: int = 100
    seed: int = 1
    device: str = "cpu"


_RESUME_FREE = {"out_dir", "steps", "save_every", "valid_every", "device"}


def read_labels(path: str | os.PathLike) -> dict[str, str]:
    """``id<TAB>label`` lines -> ``{id: label}``."""
    path = Path(path)
    if not path.is_file():
        raise TextlessError(f"{path}: no such labels file")
    out = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        uid, sep, label = line.partition("\t")
        if not sep or not label.strip():
            raise TextlessError(f"{path}:{n}: expected 'id<TAB>label'")
        out[uid] = label.strip()
    return out


def majority_accuracy(train_labels: Sequence[int], test_labels: Sequence[int]) -> float:
    """Accuracy on ``test_labels`` of always answering the most frequent training class.

    >>> majority_accuracy([0, 0, 1], [0, 1, 1, 1])
    0.25
    """
    best = max(set(train_labels), key=list(train_labels).count)
    return sum(t == best for t in test_labels) / len(test_labels)


def train_prompt_from_files(c: PromptTrainConfig) -> dict:
    """``textless train prompt``: fit (or resume, when ``out_dir/state.pt`` exists), writing the run
    folder of :mod:`textless.trainer` (``state.pt``, ``log.jsonl`` with ``valid_accuracy`` lines,
    ``prompt.safetensors``) and ``metrics.json`` at the end."""
    from ..units import read_units
    from .checkpoint import load_ulm

    rank, world, device = init_distributed(c.device)
    ulm = load_ulm(c.ulm, device)
    labels = read_labels(c.labels)

    def labelled(path):
        utts = read_units(path)
        missing = [u.id for u in utts if u.id not in labels]
        if missing:
            raise TextlessError(f"{path}: no label for {missing[:3]}")
        return [u.deduplicated().units for u in utts], [labels[u.id] for u in utts]

    units, names = labelled(c.units)
    classes = tuple(sorted(set(names)))
    if len(classes) > ulm.vocab_size:
        raise TextlessError("more classes than units for the verbalizer")
    # verbalizer: class c -> unit c (any distinct units serve; the prompt learns the mapping)
    config = PromptConfig(classes=classes, verbalizer=tuple(range(len(classes))),
                          prompt_length=c.prompt_length, deep=c.deep, dim=ulm.config.dim,
                          num_layers=ulm.config.num_layers)
    y = [classes.index(n) for n in names]
    vunits = vy = None
    if c.valid_units:
        vunits, vnames = labelled(c.valid_units)
        unknown = sorted(set(vnames) - set(classes))
        if unknown:
            raise TextlessError(f"{c.valid_units}: labels {unknown} are not in the training set")
        vy = [classes.index(n) for n in vnames]
    out = Path(c.out_dir)
    state = load_state(out, "a prompt training state")
    if state is not None:
        check_resume(state["train_config"], c, out, free=_RESUME_FREE)
        check_world(state, world)
    runlog = RunLog(out, int(state["step"]) if state else 0, enabled=rank == 0)

    def on_step(step, loss, tuner, optim):
        record = {"step": step, "loss": loss}
        if rank == 0 and vunits and (step % c.valid_every == 0 or step == c.steps):
            record["valid_accuracy"] = _accuracy(tuner.predict(vunits), vy)
        runlog.write(record)
        if rank == 0 and (step % c.save_every == 0 or step == c.steps):
            save_state(out, {"step": step, "prompt": tuner.prompt_state(), "optimizer": optim.state_dict(),
                             "train_config": config_json(c), "world_size": world, "loss": loss})
            save_prompt(out / "prompt.safetensors", tuner)

    try:
        tuner, losses = train_prompt(ulm, units, y, config, steps=c.steps, lr=c.lr, batch_size=c.batch_size,
                                     seed=c.seed, state=state, on_step=on_step, rank=rank, world=world)
    finally:
        runlog.close()
    metrics = {"classes": list(classes), "final_loss": losses[-1] if losses else state["loss"],
               "train_accuracy": _accuracy(tuner.predict(units), y)}
    if vunits:
        metrics["valid_accuracy"] = _accuracy(tuner.predict(vunits), vy)
        metrics["valid_majority_baseline"] = majority_accuracy(y, vy)
    if rank == 0:
        with atomic_open(out / "metrics.json", "w") as f:
            json.dump(metrics, f, indent=2)
    return metrics


def _accuracy(pred, gold) -> float:
    return sum(p == g for p, g in zip(pred, gold)) / len(gold)
