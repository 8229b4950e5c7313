"""HuBERT pre-training, first iteration: masked prediction of frame labels (e.g. MFCC k-means).

The model is :class:`~textless.encoders.hubert.HubertEncoder` (any size). Frames chosen by
span masking are replaced by ``mask_emb``; a linear head over the last layer predicts each
masked frame's label (cross-entropy on masked frames only, as HuBERT's default
``pred_nomask_weight=0``). Labels are frame-aligned unit streams at the model's frame rate,
e.g. ``textless encode --no-dedup`` with an MFCC + k-means pipeline whose hop equals the
model's (320 samples at 16 kHz).

The run folder follows :mod:`textless.trainer`: ``DIR/state.pt`` every ``save_every`` steps
(model, head, optimizer, step, generator states, config; runs of earlier versions saved it as
``last.pt``, still resumed from), ``DIR/log.jsonl`` (loss and masked accuracy per step) and
``DIR/encoder.safetensors`` (the exported encoder, written when :meth:`Pretrainer.train` ends:
``recipes/encoder_choice.py`` takes it as the sign of a finished run); a new :class:`Pretrainer` on
the same folder continues the run exactly. There is no validation and no CLI (the recipes call
it: ``recipes/encoder_choice.py``).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..distributed import init_distributed
from ..errors import TextlessError
from ..progress import progress
from ..trainer import RunLog, check_resume, config_json, get_rng, load_state, save_state, set_rng
from .hubert import HubertConfig, HubertEncoder

log = logging.getLogger(__name__)

SMALL_CONV = ((256, 10, 5),) + ((256, 3, 2),) * 4 + ((256, 2, 2),) * 2


def small_hubert_config(**kw) -> HubertConfig:
    """A CPU-trainable HuBERT: 256-channel conv stack (50 Hz), 6 x 256 post-LN transformer."""
    base = dict(conv_layers=SMALL_CONV, embed_dim=256, ffn_dim=1024, num_layers=6, num_heads=4,
                conv_pos=64, conv_pos_groups=16, dropout=0.05, name="hubert-small")
    return HubertConfig(**{**base, **kw})


@dataclass(frozen=True)
class PretrainConfig:
    """``crop_s``: seconds per training crop; ``batch_size``: crops per step; ``mask_prob`` x
    frames / ``mask_length`` span starts per crop (HuBERT: 0.8 and 10). ``max_steps`` and
    ``checkpoint_every``: deprecated names of ``steps`` and ``save_every``."""

    model: dict = field(default_factory=lambda: dataclasses.asdict(small_hubert_config()))
    num_classes: int = 100
    mask_prob: float = 0.8
    mask_length: int = 10
    crop_s: float = 2.0
    batch_size: int = 8
    lr: float = 5e-4
    weight_decay: float = 0.01
    warmup_steps: int = 500
    steps: int = 20000
    clip_norm: float = 10.0
    save_every: int = 250
    seed: int = 0
    device: str = "cpu"
    max_steps: dataclasses.InitVar[int | None] = None
    checkpoint_every: dataclasses.InitVar[int | None] = None

    def __post_init__(self, max_steps, checkpoint_every):
        for old, new, value in (("max_steps", "steps", max_steps), ("checkpoint_every", "save_every", checkpoint_every)):
            if value is not None:
                warnings.warn(f"PretrainConfig({old}=) is deprecated: use {new}", DeprecationWarning, stacklevel=3)
                object.__setattr__(self, new, value)


def span_mask(num_frames: int, mask_prob: float, mask_length: int, gen: torch.Generator) -> torch.Tensor:
    """``[num_frames]`` bool: ``round(mask_prob * F / mask_length)`` spans of ``mask_length``
    frames at random starts (overlaps allowed), at least one frame masked."""
    n_spans = max(1, round(mask_prob * num_frames / mask_length))
    starts = torch.randint(0, max(1, num_frames - mask_length + 1), (n_spans,), generator=gen)
    mask = torch.zeros(num_frames, dtype=torch.bool)
    for s in starts.tolist():
        mask[s: s + mask_length] = True
    return mask


class PretrainData:
    """Waveforms ``[T_i]`` (float32, 16 kHz) and their frame labels ``[F_i]`` in memory."""

    def __init__(self, wavs: list[np.ndarray], labels: list[torch.Tensor], hop_length: int):
        if len(wavs) != len(labels) or not wavs:
            raise TextlessError("pre-training needs the same number (> 0) of waveforms and label streams")
        self.wavs, self.labels, self.hop = wavs, labels, hop_length

    def crop(self, i: int, frames: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """A random ``frames``-frame crop of utterance ``i``: ``(wav [frames*hop + extra], labels [frames])``."""
        labels = self.labels[i]
        wav = self.wavs[i]
        usable = min(labels.numel(), (len(wav) - 400) // self.hop + 1 if len(wav) >= 400 else 0)
        n = min(frames, usable)
        start = int(torch.randint(0, usable - n + 1, (1,), generator=gen)) if usable > n else 0
        a = start * self.hop
        span = wav[a: a + (n - 1) * self.hop + 400]
        return torch.from_numpy(np.ascontiguousarray(span)), labels[start: start + n]


def _lr(step: int, cfg: PretrainConfig) -> float:
    """Linear warm-up, then linear decay to zero at ``steps``."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    return cfg.lr * max(0.0, (cfg.steps - step) / max(1, cfg.steps - cfg.warmup_steps))


#: Settings a run may change when it resumes.
_RESUME_FREE = {"save_every", "device"}


class Pretrainer:
    """Pre-training in the run folder ``out_dir``, resumed from its ``state.pt`` when it has one."""

    def __init__(self, cfg: PretrainConfig, data: PretrainData, out_dir: Path):
        self.cfg, self.data, self.out = cfg, data, Path(out_dir)
        _, world, self.device = init_distributed(cfg.device)
        if world > 1:
            raise TextlessError("HuBERT pre-training runs in one process")
        torch.manual_seed(cfg.seed)
        self.model = HubertEncoder(HubertConfig(**{k: tuple(map(tuple, v)) if k == "conv_layers" else v
                                                    for k, v in cfg.model.items()}))
        if self.model.hop_length != data.hop:
            raise TextlessError(f"labels at hop {data.hop} but the model's hop is {self.model.hop_length}")
        self.head = nn.Linear(self.model.dim, cfg.num_classes)
        self.model.to(self.device)
        self.head.to(self.device)
        params = list(self.model.parameters()) + list(self.head.parameters())
        self.opt = torch.optim.AdamW(params, lr=cfg.lr, betas=(0.9, 0.98), weight_decay=cfg.weight_decay)
        self.gen = torch.Generator().manual_seed(cfg.seed)
        self.step = 0
        self.history: list[dict] = []
        state = load_state(self.out, "an encoder training state", legacy=("last.pt",))
        if state is not None:
            self._restore(state)

    # ----------------------------------------------------------------------------- state
    def _restore(self, state: dict):
        if "train_config" in state:  # (states of earlier versions have none)
            check_resume(state["train_config"], self.cfg, self.out, free=_RESUME_FREE)
        self.model.load_state_dict(state["model"])
        self.head.load_state_dict(state["head"])
        self.opt.load_state_dict(state["optim"])
        self.gen.set_state(state["gen"])
        set_rng(state["torch_rng"], self.device)
        self.step = int(state["step"])
        self.history = list(state["history"])

    def save_state(self):
        save_state(self.out, {
            "model": self.model.state_dict(), "head": self.head.state_dict(),
            "optim": self.opt.state_dict(), "gen": self.gen.get_state(),
            "torch_rng": get_rng(self.device), "step": self.step, "history": self.history,
            "train_config": config_json(self.cfg),
        })
    # ----------------------------------------------------------------------------- step
    def batch(self):
        cfg = self.cfg
        frames = int(cfg.crop_s * self.model.frame_rate)
        idx = torch.randint(0, len(self.data.wavs), (cfg.batch_size,), generator=self.gen).tolist()
        crops = [self.data.crop(i, frames, self.gen) for i in idx]
        wavs = nn.utils.rnn.pad_sequence([c[0] for c in crops], batch_first=True)
        lengths = torch.tensor([c[0].numel() for c in crops])
        labels = nn.utils.rnn.pad_sequence([c[1] for c in crops], batch_first=True, padding_value=-100)
        f = labels.shape[1]
        mask = torch.stack([
            torch.nn.functional.pad(span_mask(c[1].numel(), cfg.mask_prob, cfg.mask_length, self.gen),
                                    (0, f - c[1].numel()))
            for c in crops
        ])
        return wavs, lengths, labels, mask

    def train_step(self) -> dict:
        self.model.train()
        wavs, lengths, labels, mask = self.batch()
        f_out = int(self.model.num_frames(wavs.shape[1]))  # frames of the padded batch
        f = min(f_out, labels.shape[1])
        frame_mask = torch.zeros(wavs.shape[0], f_out, dtype=torch.bool)
        frame_mask[:, :f] = mask[:, :f]
        wavs, lengths, frame_mask = wavs.to(self.device), lengths.to(self.device), frame_mask.to(self.device)
        out = self.model.extract(wavs, lengths, None, frame_mask=frame_mask)
        logits = self.head(out.features[:, :f])
        target = labels[:, :f].masked_fill(~mask[:, :f], -100).to(self.device)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=-100)
        for g in self.opt.param_groups:
            g["lr"] = _lr(self.step, self.cfg)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(list(self.model.parameters()) + list(self.head.parameters()), self.cfg.clip_norm)
        self.opt.step()
        with torch.no_grad():
            sel = target != -100
            acc = (logits.argmax(-1)[sel] == target[sel]).float().mean().item() if sel.any() else math.nan
        self.step += 1
        return {"step": self.step, "loss": loss.item(), "masked_acc": acc}

    def train(self, steps: int | None = None) -> list[dict]:
        """Train until ``cfg.steps`` (or ``steps`` more); save every ``save_every`` steps and at the end."""
        end = self.cfg.steps if steps is None else min(self.cfg.steps, self.step + steps)
        bar = progress(total=end - self.step, desc="pre-train HuBERT", unit="step")
        with RunLog(self.out, self.step) as runlog:
            while self.step < end:
                rec = self.train_step()
                self.history.append(rec)
                runlog.write(rec)
                bar.update(1)
                bar.set_postfix(loss=f"{rec['loss']:.3f}", acc=f"{rec['masked_acc']:.3f}")
                if self.step % self.cfg.save_every == 0 or self.step == end:
                    self.save_state()
                    log.info("step %d loss %.4f masked acc %.3f", self.step, rec["loss"], rec["masked_acc"])
        bar.close()
        self.export()
        return self.history

    def export(self) -> Path:
        """Write the encoder (no head) as ``encoder.safetensors`` in the output folder."""
        self.model.eval()
        return self.model.save(self.out / "encoder.safetensors")
