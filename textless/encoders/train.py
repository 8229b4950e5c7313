"""Train a small log-mel encoder whose units do not depend on the speaker (``textless train encoder``).

The model (:class:`~textless.encoders.logmel.LogMelEncoder` + a linear head) learns to predict
frame targets, combinable training signals chosen by the config:

* **cross-voice alignment** (``canonical``): in a parallel corpus (the same sentence spoken by
  several voices), every utterance gets the targets of the canonical voice's utterance of the
  same sentence, moved onto its frames by DTW (:mod:`textless.encoders.targets`); canonical
  utterances keep their own. Utterances without a canonical partner are left out.
* **own targets** (no ``canonical``): each utterance's own frame labels (e.g. MFCC k-means).
* **masked prediction** (``mask_prob > 0``): spans of input frames are zeroed and the loss is
  taken on masked frames (weight 1) and on the others (``unmasked_weight``), as HuBERT.
* **speaker perturbation** (``perturb_views > 0``): each utterance is also prepared in that many
  randomly perturbed versions (formant ratio in [1, 1.4] or its inverse, pitch-median ratio in
  [1, 2] or its inverse: Praat's "Change gender", length kept) with the targets of the clean
  view; each training crop takes a random view, and a random equalizer (a smooth random curve of
  +-``eq_db`` added to the log-mel bands) on top.

Targets come from a unit file (``textless encode --no-dedup`` JSON Lines; frame units of the
utterances, by id) on the frame grid of the encoder (``(T - 400) // hop + 1`` frames).

The run folder holds ``state.pt`` (model, head, optimizer, step; ``torch.load(weights_only=True)``),
``log.jsonl`` (a line per step; ``valid_acc`` lines), ``encoder.safetensors`` and
``quantizer.safetensors`` (the head as a :class:`~textless.quantizers.linear.LinearQuantizer`),
and ``data/`` (the prepared log-mels and targets, reused on resume: Praat's perturbation is not
bit-reproducible, so the views are drawn once per run). Batches, crops, masks and dropout are
pure functions of ``(seed, step, rank)``, so a run resumed after a kill takes the same steps as
one that never stopped. Under ``torchrun`` each process takes ``batch_size`` crops and
DDP averages the gradients.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..distributed import average_gradients, init_distributed
from ..progress import progress
from ..trainer import RunLog, check_resume, check_world, config_json, load_state, save_state
from .logmel import LogMelEncoder
from .train_data import EncoderTrainConfig, Prepared, make_batch, prepare_data  # noqa: F401 (EncoderTrainConfig: this module's API)

log = logging.getLogger(__name__)


#: Settings that may change between a run and its resumption.
_RESUME_FREE = {"out_dir", "save_every", "valid_every", "device", "workers", "stop_at_step"}


def lr_at(step: int, c: EncoderTrainConfig) -> float:
    """Linear warm-up to ``lr``, then cosine decay to ``lr / 10`` at ``steps``."""
    if step < c.warmup_steps:
        return c.lr * (step + 1) / c.warmup_steps
    t = min(1.0, (step - c.warmup_steps) / max(1, c.steps - c.warmup_steps))
    return c.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t)))


def _loss(model, head, batch, c, device):
    mel, frames, labels, mask = (t.to(device) for t in batch)
    feats = model.forward_mel(mel, frames, frame_mask=mask if c.mask_prob > 0 else None)
    logits = head(feats)
    ce = F.cross_entropy(logits.transpose(1, 2), labels, ignore_index=-100, reduction="none")  # [B, F]
    weight = (labels >= 0).float()
    if c.mask_prob > 0:
        weight = weight * (mask.float() + c.unmasked_weight * (~mask).float())
    loss = (ce * weight).sum() / weight.sum().clamp_min(1)
    with torch.no_grad():
        sel = weight > 0
        acc = (logits.argmax(-1)[sel] == labels[sel]).float().mean().item() if sel.any() else math.nan
    return loss, acc


@torch.no_grad()
def validate(model, head, data: Prepared, device, max_utts: int = 200) -> float:
    """Frame accuracy of the head's argmax on held-out sentences (clean view)."""
    idx = np.flatnonzero(data.valid)[:max_utts]
    if not len(idx):
        return math.nan
    was = model.training
    model.eval()
    right = total = 0
    for i in idx:
        a, b = int(data.offsets[i]), int(data.offsets[i + 1])
        mel = torch.from_numpy(np.asarray(data.mels[0, a:b], dtype=np.float32))[None].to(device)
        pred = head(model.forward_mel(mel, torch.tensor([b - a], device=device)))[0].argmax(-1).cpu()
        right += int((pred == torch.from_numpy(np.asarray(data.labels[a:b]))).sum())
        total += b - a
    model.train(was)
    return right / max(total, 1)


# ----------------------------------------------------------------------------- training
def train_encoder(c: EncoderTrainConfig, show_progress: bool = True) -> dict:
    """Train (or resume, when ``out_dir/state.pt`` exists) until ``c.steps`` (or
    ``c.stop_at_step``); export the encoder and its head. Returns the last log record."""
    from ..quantizers.linear import LinearQuantizer, LinearQuantizerConfig

    rank, world, device = init_distributed(c.device)
    out = Path(c.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state = load_state(out, "an encoder training state")
    if state is not None:
        check_resume(state["train_config"], c, out, free=_RESUME_FREE)
        check_world(state, world)
    data = prepare_data(c, show_progress and rank == 0) if rank == 0 else None
    if world > 1:
        import torch.distributed as dist

        dist.barrier()
        data = data or prepare_data(c, False)
    torch.manual_seed(c.seed)
    model = LogMelEncoder(c.model).to(device)
    head = LinearQuantizer(LinearQuantizerConfig(data.vocab_size, c.model.dim, c.model.name,
                                                 layer=c.model.num_layers)).to(device)
    params = list(model.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=c.lr, betas=(0.9, 0.98), weight_decay=c.weight_decay)
    step = 0
    if state is not None:
        model.load_state_dict(state["model"])
        head.load_state_dict(state["head"])
        opt.load_state_dict(state["optimizer"])
        step = int(state["step"])
    ddp = model
    if world > 1:
        ddp = torch.nn.parallel.DistributedDataParallel(model)
    model.train()
    record = {"step": step}
    stop = min(c.steps, c.stop_at_step or c.steps)
    bar = progress(total=stop, initial=step, desc="train encoder", unit="step",
                   enabled=show_progress and rank == 0)
    runlog = RunLog(out, step, enabled=rank == 0)
    try:
        while step < stop:
            torch.manual_seed(c.seed * 1_000_003 + step * 1009 + rank)  # dropout of this step
            for g in opt.param_groups:
                g["lr"] = lr_at(step, c)
            loss, acc = _loss(ddp, head.head, make_batch(data, c, step, rank), c, device)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            average_gradients(head.parameters(), world)  # the head is outside DDP
            gnorm = torch.nn.utils.clip_grad_norm_(params, c.clip_norm)
            opt.step()
            step += 1
            record = {"step": step, "loss": loss.item(), "acc": acc, "lr": lr_at(step - 1, c),
                      "grad_norm": float(gnorm)}
            if step % c.valid_every == 0 or step == stop:
                record["valid_acc"] = validate(model, head.head, data, device)
            runlog.write(record)
            bar.update(1)
            bar.set_postfix(loss=f"{record['loss']:.3f}", acc=f"{acc:.3f}")
            if rank == 0 and (step % c.save_every == 0 or step == stop):
                _save(out, c, model, head, opt, step, world)
    finally:
        bar.close()
        runlog.close()
    return record


def _save(out: Path, c: EncoderTrainConfig, model, head, opt, step: int, world: int):
    save_state(out, {"step": step, "model": model.state_dict(), "head": head.state_dict(),
                     "optimizer": opt.state_dict(), "world_size": world, "train_config": config_json(c)})
    model.save(out / "encoder.safetensors")
    head.save(out / "quantizer.safetensors")
