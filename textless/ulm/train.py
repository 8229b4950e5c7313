"""Train a unit LM on a JSON Lines unit corpus; exact resume; DDP under ``torchrun``.

One optimizer step consumes ``update_freq * world_size`` token-count batches from a
deterministic stream (see :mod:`textless.ulm.data`); rank ``r`` takes every ``world_size``-th.
The loss is the summed token NLL over the whole step divided by its token count, so a run on
``W`` processes equals a single-process run with ``update_freq * W`` (up to float rounding,
with dropout off). AdamW with linear warm-up and cosine decay, gradient clipping, validation
perplexity, and an atomic ``state.pt`` (model, optimizer, stream position, every rank's RNG)
every ``save_every`` steps: restarting the same command in the same ``out_dir`` continues the run
exactly (same data order, same dropout masks); see :mod:`textless.trainer`.

Files in ``out_dir``: ``state.pt`` (training state, ``torch.load(weights_only=True)``; runs of
earlier versions saved it as ``checkpoint_last.pt``, still resumed from),
``ulm.safetensors`` (latest weights for inference), ``ulm_best.safetensors`` (best validation
perplexity; the latest weights when there is no validation set), ``tokenizer.json`` (with
``tokenizer``: the BPE tokenizer the LM reads; perplexities are then per token), ``log.jsonl`` (one line per step: step, loss in nats/token, lr, tokens; plus
``valid_ppl`` lines).
"""

from __future__ import annotations

import dataclasses
import logging
import math
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F

from ..distributed import init_distributed
from ..errors import TextlessError
from ..progress import progress
from ..trainer import (RunLog, check_resume, check_world, get_rng, load_state, read_log,  # noqa: F401 (read_log: API)
                       save_state, set_rng)
from .checkpoint import save_ulm
from .data import BatchStream, collate, load_sequences, split_long
from .model import UnitLM, UnitLMConfig

log = logging.getLogger(__name__)
LEGACY_STATE_FILES = ("checkpoint_last.pt",)  # the state's name before the trainer contract
TOKENIZER_FILE = "tokenizer.json"  # copy of TrainConfig.tokenizer, beside ulm.safetensors


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (``stop_at_step`` ends this run early without changing the schedule)."""

    train: str
    out_dir: str
    valid: str | None = None
    valid_fraction: float = 0.05      # held out from ``train`` when ``valid`` is None
    deduplicate: bool = True
    max_tokens: int = 4096            # padded input tokens per batch, per process
    update_freq: int = 1              # batches accumulated per step, per process
    steps: int = 1000                 # the schedule's length (warm-up, cosine decay)
    lr: float = 5e-4
    min_lr_ratio: float = 0.1
    warmup_steps: int = 100
    weight_decay: float = 0.01
    betas: tuple[float, float] = (0.9, 0.98)
    clip_norm: float = 1.0
    save_every: int = 100
    valid_every: int = 100
    seed: int = 1
    stop_at_step: int | None = None
    device: str = "cpu"
    tokenizer: str | None = None      # BPE tokenizer JSON: train on its tokens (textless.tokenizer)


_RESUME_FREE = {"out_dir", "stop_at_step", "device", "save_every", "valid_every"}
_RENAMED = {"max_steps": "steps"}  # fields of states saved by earlier versions


def lr_at(step: int, c: TrainConfig) -> float:
    """Learning rate of optimizer step ``step`` (0-based): linear warm-up, then cosine decay
    to ``min_lr_ratio * lr`` at ``steps``.

    >>> c = TrainConfig("t", "o", lr=1.0, warmup_steps=2, steps=5, min_lr_ratio=0.0)
    >>> [round(lr_at(s, c), 3) for s in range(5)]
    [0.5, 1.0, 1.0, 0.5, 0.0]
    """
    if step < c.warmup_steps:
        return c.lr * (step + 1) / c.warmup_steps
    span = max(1, c.steps - c.warmup_steps - 1)
    t = min(1.0, (step - c.warmup_steps) / span)
    return c.lr * (c.min_lr_ratio + (1 - c.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * t)))


def _split_valid(seqs, c: TrainConfig):
    if c.valid is not None:
        return seqs, load_sequences(c.valid, c.deduplicate, c.tokenizer)[0]
    n_valid = int(len(seqs) * c.valid_fraction)
    if n_valid == 0:
        return seqs, []
    perm = torch.randperm(len(seqs), generator=torch.Generator().manual_seed(c.seed)).tolist()
    held = set(perm[:n_valid])
    return [s for i, s in enumerate(seqs) if i not in held], [seqs[i] for i in sorted(held)]


def _nll(model, batch_tokens, eos, pad, device) -> tuple[torch.Tensor, int]:
    inp, tgt = collate(batch_tokens, eos, pad)
    inp, tgt = inp.to(device), tgt.to(device)
    logits = model(inp)
    nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1),
                          ignore_index=-100, reduction="sum")
    return nll, int((tgt >= 0).sum())


@torch.no_grad()
def evaluate(model: UnitLM, seqs, max_tokens: int, rank: int = 0, world: int = 1) -> float:
    """Perplexity ``exp(NLL / tokens)`` of token sequences (eos-closed), shared over ranks."""
    was = model.training
    model.eval()
    batches = BatchStream([len(s) + 1 for s in seqs], max_tokens, seed=0)._batches
    total = torch.zeros(2, dtype=torch.float64)
    for b in batches[rank::world]:
        nll, n = _nll(model, [seqs[i] for i in b], model.eos, model.pad, model.device)
        total += torch.tensor([float(nll), n], dtype=torch.float64)
    if world > 1:
        dist.all_reduce(total)
    model.train(was)
    return math.exp(total[0] / max(total[1], 1))


def train_ulm(config: TrainConfig, model_config: UnitLMConfig | None = None) -> dict:
    """Train (or resume, when ``out_dir`` holds ``state.pt``) a unit LM.

    ``model_config`` defaults to :class:`UnitLMConfig` with the corpus' vocabulary; on resume
    the stored one is used. Returns ``{"step", "loss", "valid_ppl", "out_dir"}`` of the last step.
    Under ``torchrun`` (``WORLD_SIZE > 1``) it joins a process group (gloo on CPU, nccl on
    CUDA) and wraps the model in DDP; rank 0 writes the files.
    """
    own_group = not dist.is_initialized()
    rank, world, device = init_distributed(config.device)
    own_group = own_group and world > 1
    try:
        return _train(config, model_config, rank, world, device)
    finally:
        if own_group:
            dist.destroy_process_group()


def _train(c: TrainConfig, model_config, rank, world, device) -> dict:
    out = Path(c.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state = load_state(out, "a unit LM training state", LEGACY_STATE_FILES)
    if state is not None:
        check_resume(state["train_config"], c, out, free=_RESUME_FREE, renamed=_RENAMED)
        check_world(state, world)
        model_config = UnitLMConfig(**{k: tuple(v) if isinstance(v, list) else v
                                       for k, v in state["model_config"].items()})
    seqs, vocab, _ = load_sequences(c.train, c.deduplicate, c.tokenizer)
    if model_config is None:
        if vocab is None:
            vocab = int(max(int(s.max()) for s in seqs if len(s))) + 1
        model_config = UnitLMConfig(vocab_size=vocab)
    if c.tokenizer is not None:
        if model_config.vocab_size != vocab:
            raise TextlessError(f"the LM has vocab_size {model_config.vocab_size}, the tokenizer "
                                f"{vocab} tokens")
        if rank == 0:  # the run folder holds what inference needs: ulm + tokenizer
            from ..tokenizer import load_tokenizer

            load_tokenizer(c.tokenizer).save(out / TOKENIZER_FILE)
    train_seqs, valid_seqs = _split_valid(seqs, c)
    max_units = min(model_config.max_positions, c.max_tokens) - 1  # an item fits a batch
    torch.manual_seed(c.seed)
    model = UnitLM(model_config).to(device)
    tokens = [model.tokens_of(s).cpu() for s in split_long(train_seqs, max_units)]
    valid_tokens = [model.tokens_of(s).cpu() for s in split_long(valid_seqs, max_units)]
    if not tokens:
        raise TextlessError(f"{c.train}: no training units")
    stream = BatchStream([len(t) + 1 for t in tokens], c.max_tokens, c.seed)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    optim = torch.optim.AdamW(
        [{"params": decay, "weight_decay": c.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=c.lr, betas=c.betas,
    )
    step, best = 0, float("inf")
    torch.manual_seed(c.seed * 1000 + rank + 1)  # dropout stream of this rank
    if state is not None:
        model.load_state_dict(state["model"])
        optim.load_state_dict(state["optimizer"])
        stream.load_state(state["stream"])
        step, best = int(state["step"]), float(state["best_valid_ppl"])
        set_rng(state["rng"][rank], device)
    ddp = model
    if world > 1:
        ddp = torch.nn.parallel.DistributedDataParallel(model)
    model.train()
    last = {"step": step, "loss": None, "valid_ppl": None, "out_dir": str(out)}
    stop = min(c.steps, c.stop_at_step or c.steps)
    bar = progress(total=stop, initial=step, desc="train ulm", unit="step", enabled=rank == 0)
    runlog = RunLog(out, step, enabled=rank == 0)  # a fresh run starts a fresh log
    try:
        while step < stop:
            group = stream.take(c.update_freq * world)
            ntok = sum(len(tokens[i]) + 1 for b in group for i in b)
            mine = [group[u * world + rank] for u in range(c.update_freq)]
            lr = lr_at(step, c)
            for g in optim.param_groups:
                g["lr"] = lr
            optim.zero_grad(set_to_none=True)
            nll_sum = torch.zeros(1, dtype=torch.float64)
            for u, b in enumerate(mine):
                sync = u == len(mine) - 1 or world == 1
                with nullcontext() if sync else ddp.no_sync():
                    nll, _ = _nll(ddp, [tokens[i] for i in b], model.eos, model.pad, device)
                    (nll * (world / ntok)).backward()
                nll_sum += float(nll.detach())
            if world > 1:
                dist.all_reduce(nll_sum)
            gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), c.clip_norm)
            optim.step()
            step += 1
            loss = float(nll_sum) / ntok
            record = {"step": step, "loss": loss, "lr": lr, "tokens": ntok, "grad_norm": float(gnorm)}
            last.update(step=step, loss=loss)
            if valid_tokens and (step % c.valid_every == 0 or step == c.steps):
                ppl = evaluate(model, valid_tokens, c.max_tokens, rank, world)
                record["valid_ppl"] = last["valid_ppl"] = ppl
                if ppl < best and rank == 0:
                    best = ppl
                    save_ulm(out / "ulm_best.safetensors", model)
                elif ppl < best:
                    best = ppl
            runlog.write(record)
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.3f}")
            if step % c.save_every == 0 or step == stop:
                _save(out, c, model, optim, stream, step, best, rank, world, bool(valid_tokens), device)
    finally:
        bar.close()
        runlog.close()
    return last


def _save(out: Path, c, model, optim, stream, step, best, rank, world, has_valid, device):
    rng = get_rng(device)
    if world > 1:
        states = [None] * world
        dist.all_gather_object(states, rng)
    else:
        states = [rng]
    if rank == 0:
        state = {
            "step": step, "stream": stream.state(), "best_valid_ppl": best,
            "model": model.state_dict(), "optimizer": optim.state_dict(), "rng": states,
            "world_size": world, "model_config": dataclasses.asdict(model.config),
            "train_config": dataclasses.asdict(c),
        }
        save_state(out, state)
        save_ulm(out / "ulm.safetensors", model)
        if not has_valid:  # nothing to choose by: the best is the latest
            save_ulm(out / "ulm_best.safetensors", model)
    if world > 1:
        dist.barrier()
