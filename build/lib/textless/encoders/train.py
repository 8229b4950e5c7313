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

import dataclasses
import hashlib
import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..distributed import init_distributed
from ..errors import TextlessError
from ..files import atomic_open, atomic_path
from ..progress import progress
from .logmel import LogMelEncoder, LogMelEncoderConfig, normalize_mel
from .pretrain import span_mask

log = logging.getLogger(__name__)
STATE_FILE = "state.pt"


@dataclass(frozen=True)
class EncoderTrainConfig:
    """Everything a run depends on. Paths are strings (saved in ``state.pt``)."""

    corpora: tuple[str, ...]
    targets: str
    out_dir: str
    canonical: str | None = None      # speaker id of the canonical voice (cross-voice alignment)
    model: LogMelEncoderConfig = field(default_factory=LogMelEncoderConfig)
    perturb_views: int = 0
    max_formant: float = 1.4
    max_pitch: float = 2.0
    eq_db: float = 0.0
    mask_prob: float = 0.0
    mask_length: int = 5
    unmasked_weight: float = 0.0
    steps: int = 2000
    batch_size: int = 16
    crop_frames: int = 200
    lr: float = 1e-3
    warmup_steps: int = 200
    weight_decay: float = 0.01
    clip_norm: float = 5.0
    valid_fraction: float = 0.03
    save_every: int = 100
    valid_every: int = 200
    seed: int = 0
    workers: int | None = None
    device: str = "cpu"


#: Settings that may change between a run and its resumption.
_RESUME_FREE = {"out_dir", "save_every", "valid_every", "device", "workers", "steps"}


# ----------------------------------------------------------------------------- data
@dataclass
class Prepared:
    """The training data in memory: ``mels[v]: [N_frames, n_mels] float16`` of view ``v`` (0 =
    clean), utterances at ``offsets[i]:offsets[i+1]``, ``labels: [N_frames] int64``, ``valid``:
    bool per utterance (held out for validation)."""

    mels: np.ndarray            # [views, N_frames, n_mels] float16
    labels: np.ndarray          # [N_frames] int64
    offsets: np.ndarray         # [utterances + 1] int64
    valid: np.ndarray           # [utterances] bool
    vocab_size: int


def _corpus_items(corpora) -> list[dict]:
    """``[{"id", "path", "text", "speaker"}]`` over the corpus folders (ids unique overall)."""
    from ..data.manifest import read_manifest, read_table

    items, seen = [], {}
    for folder in map(Path, corpora):
        root, entries = read_manifest(folder / "manifest.tsv")
        texts = read_table(folder / "transcripts.tsv") if (folder / "transcripts.tsv").is_file() else {}
        speakers = read_table(folder / "speakers.tsv") if (folder / "speakers.tsv").is_file() else {}
        for rel, _ in entries:
            uid = Path(rel).stem
            if uid in seen:
                raise TextlessError(f"utterance id {uid} is in both {seen[uid]} and {folder} (give "
                                    "batches disjoint ids: textless data synth --first-index)")
            seen[uid] = folder
            items.append({"id": uid, "path": str(root / rel), "text": texts.get(uid),
                          "speaker": speakers.get(uid)})
    if not items:
        raise TextlessError("the training corpora hold no utterances")
    return items


def _prepare_one(job) -> tuple:
    """Worker: ``(clean log-mel [F, M], perturbed views [P, F, M], MFCC [F, 39] or None)``."""
    path, cfg_dict, views, seed, index, want_mfcc, max_formant, max_pitch = job
    from ..audio import load_audio
    from ..data.perturb import change_gender, random_speaker
    from .spectral import SpectralEncoder, logmel_config, mfcc_config

    torch.set_num_threads(1)
    cfg = LogMelEncoderConfig(**cfg_dict)
    logmel = SpectralEncoder(logmel_config(sample_rate=cfg.sample_rate, n_fft=cfg.n_fft,
                                           hop_length=cfg.hop_length, n_mels=cfg.n_mels))
    wav, _ = load_audio(path, cfg.sample_rate, min_samples=cfg.n_fft)
    rng = np.random.default_rng([seed, index])
    wavs = [wav] + [change_gender(wav, cfg.sample_rate, **dict(zip(
        ("formant_ratio", "pitch_ratio"), random_speaker(rng, max_formant, max_pitch))))
        for _ in range(views)]
    mels = []
    for w in wavs:
        m, n = logmel.features(torch.from_numpy(w)[None])
        mels.append(normalize_mel(m.clone(), n)[0].numpy().astype(np.float16))
    mfcc = None
    if want_mfcc:
        spec = SpectralEncoder(mfcc_config(n_fft=cfg.n_fft, hop_length=cfg.hop_length, cmvn=True))
        f, n = spec.features(torch.from_numpy(wav)[None])
        mfcc = f[0, : int(n[0])].numpy()
    return mels[0], np.stack(mels[1:]) if views else None, mfcc


def _data_key(c: EncoderTrainConfig) -> str:
    keys = ("corpora", "targets", "canonical", "model", "perturb_views", "max_formant", "max_pitch",
            "valid_fraction", "seed")
    d = dataclasses.asdict(c)
    return hashlib.sha256(json.dumps([d[k] for k in keys], sort_keys=True).encode()).hexdigest()[:16]


def prepare_data(c: EncoderTrainConfig, show_progress: bool = True) -> Prepared:
    """Log-mels (clean + perturbed views) and frame targets of every usable utterance, cached in
    ``out_dir/data/`` (keyed by the settings they depend on)."""
    from concurrent.futures import ProcessPoolExecutor

    from ..units import read_units

    cache = Path(c.out_dir) / "data" / _data_key(c)
    if (cache / "done").is_file():
        z = {k: np.load(cache / f"{k}.npy", mmap_mode="r" if k == "mels" else None)
             for k in ("mels", "labels", "offsets", "valid")}
        meta = json.loads((cache / "done").read_text())
        return Prepared(z["mels"], z["labels"], z["offsets"], z["valid"], meta["vocab_size"])

    targets = {u.id: u for u in read_units(c.targets)}
    if not targets:
        raise TextlessError(f"{c.targets}: no units")
    vocab = max(u.vocab_size or int(u.units.max()) + 1 for u in targets.values())
    items = _corpus_items(c.corpora)
    if c.canonical:
        canon = {it["text"]: it for it in items if it["speaker"] == c.canonical and it["id"] in targets}
        if not canon:
            raise TextlessError(f"no utterance of the canonical speaker {c.canonical!r} has targets "
                                f"in {c.targets} (speaker ids come from speakers.tsv)")
        items = [it for it in items if it["text"] in canon]
    else:
        items = [it for it in items if it["id"] in targets]
    if not items:
        raise TextlessError("no training utterance has targets")
    sentences = sorted({it["text"] or it["id"] for it in items})
    rng = np.random.default_rng(c.seed)
    held = set(rng.permutation(len(sentences))[: int(len(sentences) * c.valid_fraction)].tolist())
    held_text = {sentences[i] for i in held}

    jobs = [(it["path"], dataclasses.asdict(c.model), c.perturb_views, c.seed, i, bool(c.canonical),
             c.max_formant, c.max_pitch) for i, it in enumerate(items)]
    workers = c.workers or (torch.get_num_threads() or 1)
    bar = progress(total=len(jobs), desc="prepare encoder data", unit="utt", enabled=show_progress)
    results = []
    with ProcessPoolExecutor(workers) as pool:
        for r in pool.map(_prepare_one, jobs, chunksize=8):
            results.append(r)
            bar.update(1)
    bar.close()

    from .targets import transfer_labels

    mfcc_of = {it["id"]: r[2] for it, r in zip(items, results)}
    mels, views, labels, lengths, valid = [], [], [], [], []
    for it, (mel, view, _) in zip(items, results):
        if c.canonical:
            ref = canon[it["text"]]
            ref_labels = targets[ref["id"]].units.numpy()
            lab = ref_labels if ref is it else transfer_labels(mfcc_of[ref["id"]], ref_labels, mfcc_of[it["id"]])
        else:
            lab = targets[it["id"]].units.numpy()
        n = min(len(mel), len(lab))
        mels.append(mel[:n])
        if view is not None:
            views.append(view[:, :n])
        labels.append(np.asarray(lab[:n], dtype=np.int64))
        lengths.append(n)
        valid.append((it["text"] or it["id"]) in held_text)
    all_mels = np.concatenate(mels)[None]
    if views:
        all_mels = np.concatenate([all_mels, np.concatenate(views, axis=1)], axis=0)
    prepared = Prepared(all_mels, np.concatenate(labels), np.concatenate([[0], np.cumsum(lengths)]),
                        np.asarray(valid), int(vocab))
    cache.mkdir(parents=True, exist_ok=True)
    for k in ("mels", "labels", "offsets", "valid"):
        with atomic_path(cache / f"{k}.npy") as tmp:
            with open(tmp, "wb") as f:
                np.save(f, getattr(prepared, k))
    with atomic_open(cache / "done", "w") as f:
        json.dump({"vocab_size": prepared.vocab_size, "utterances": len(lengths),
                   "frames": int(sum(lengths))}, f)
    log.info("prepared %d utterances (%d frames, %d views) in %s", len(lengths), sum(lengths),
             all_mels.shape[0], cache)
    return prepared


# ----------------------------------------------------------------------------- batches
def make_batch(data: Prepared, c: EncoderTrainConfig, step: int, rank: int = 0):
    """The crops of ``step`` for process ``rank``: ``(mel [B, F, M], frames [B], labels [B, F]
    (-100 on padding), mask [B, F] bool)`` — a pure function of ``(seed, step, rank)``."""
    g = np.random.default_rng([c.seed, step, rank])
    train = np.flatnonzero(~data.valid)
    picks = g.choice(train, size=c.batch_size)
    n_views = data.mels.shape[0]
    mels, labels, masks = [], [], []
    gen = torch.Generator().manual_seed(int(g.integers(2**62)))
    for i in picks:
        a, b = int(data.offsets[i]), int(data.offsets[i + 1])
        n = min(b - a, c.crop_frames)
        s = a + int(g.integers(0, b - a - n + 1))
        view = int(g.integers(0, n_views))
        m = torch.from_numpy(np.asarray(data.mels[view, s: s + n], dtype=np.float32))
        if c.eq_db > 0:  # a smooth random equalizer: a random cosine series over the bands
            k = np.arange(m.shape[1]) / (m.shape[1] - 1)
            curve = sum(g.normal() * np.cos(np.pi * j * k) for j in range(1, 4)) * c.eq_db / 20 * math.log(10) / 2
            m = m + torch.from_numpy(curve.astype(np.float32))
            m = m - m.mean(0, keepdim=True)
        mels.append(m)
        labels.append(torch.from_numpy(np.asarray(data.labels[s: s + n])))
        masks.append(span_mask(n, c.mask_prob, c.mask_length, gen) if c.mask_prob > 0
                     else torch.zeros(n, dtype=torch.bool))
    frames = torch.tensor([len(x) for x in labels])
    pad = torch.nn.utils.rnn.pad_sequence
    return (pad(mels, batch_first=True), frames, pad(labels, batch_first=True, padding_value=-100),
            pad(masks, batch_first=True))


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
    """Train (or resume, when ``out_dir/state.pt`` exists) until ``c.steps``; export the encoder
    and its head. Returns the last log record."""
    from ..quantizers.linear import LinearQuantizer, LinearQuantizerConfig

    rank, world, device = init_distributed(c.device)
    out = Path(c.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state = None
    if (out / STATE_FILE).is_file():
        state = torch.load(out / STATE_FILE, map_location="cpu", weights_only=True)
        _check_resume(state, c, world)
    data = prepare_data(c, show_progress and rank == 0) if rank == 0 else None
    if world > 1:
        import torch.distributed as dist

        dist.barrier()
        data = data or prepare_data(c, False)
    torch.manual_seed(c.seed)
    model = LogMelEncoder(c.model).to(device)
    head = LinearQuantizer(LinearQuantizerConfig(data.vocab_size, c.model.dim, c.model.name)).to(device)
    params = list(model.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=c.lr, betas=(0.9, 0.98), weight_decay=c.weight_decay)
    step = 0
    if state is not None:
        model.load_state_dict(state["model"])
        head.load_state_dict(state["head"])
        opt.load_state_dict(state["optimizer"])
        step = int(state["step"])
        log.info("resumed %s at step %d", out, step)
    _truncate_log(out / "log.jsonl", step, rank)
    ddp = model
    if world > 1:
        ddp = torch.nn.parallel.DistributedDataParallel(model)
    model.train()
    record = {"step": step}
    bar = progress(total=c.steps, initial=step, desc="train encoder", unit="step",
                   enabled=show_progress and rank == 0)
    logf = open(out / "log.jsonl", "a", encoding="utf-8") if rank == 0 else None
    try:
        while step < c.steps:
            torch.manual_seed(c.seed * 1_000_003 + step * 1009 + rank)  # dropout of this step
            for g in opt.param_groups:
                g["lr"] = lr_at(step, c)
            loss, acc = _loss(ddp, head.head, make_batch(data, c, step, rank), c, device)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if world > 1:  # the head is outside DDP: average its gradients by hand
                import torch.distributed as dist

                for p in head.parameters():
                    dist.all_reduce(p.grad)
                    p.grad /= world
            gnorm = torch.nn.utils.clip_grad_norm_(params, c.clip_norm)
            opt.step()
            step += 1
            record = {"step": step, "loss": float(loss), "acc": acc, "lr": lr_at(step - 1, c),
                      "grad_norm": float(gnorm)}
            if step % c.valid_every == 0 or step == c.steps:
                record["valid_acc"] = validate(model, head.head, data, device)
            if logf:
                logf.write(json.dumps(record) + "\n")
                logf.flush()
            bar.update(1)
            bar.set_postfix(loss=f"{float(loss):.3f}", acc=f"{acc:.3f}")
            if rank == 0 and (step % c.save_every == 0 or step == c.steps):
                _save(out, c, model, head, opt, step, world)
    finally:
        bar.close()
        if logf:
            logf.close()
    return record


def _save(out: Path, c: EncoderTrainConfig, model, head, opt, step: int, world: int):
    state = {"step": step, "model": model.state_dict(), "head": head.state_dict(),
             "optimizer": opt.state_dict(), "world_size": world,
             "train_config": json.dumps(dataclasses.asdict(c))}
    with atomic_path(out / STATE_FILE) as tmp:
        torch.save(state, tmp)
    model.save(out / "encoder.safetensors")
    head.save(out / "quantizer.safetensors")


def _check_resume(state: dict, c: EncoderTrainConfig, world: int):
    saved, now = json.loads(state["train_config"]), json.loads(json.dumps(dataclasses.asdict(c)))
    diff = sorted(k for k in now if k not in _RESUME_FREE and saved.get(k) != now[k])
    if diff:
        raise TextlessError(f"{c.out_dir} holds a run with other settings ({', '.join(diff)}): "
                            "use a new --out or the same settings to resume")
    if state["world_size"] != world:
        raise TextlessError(f"resume with {state['world_size']} processes, not {world}")


def _truncate_log(path: Path, step: int, rank: int):
    """Keep the log lines of steps up to ``step`` (a fresh run starts an empty log)."""
    if rank != 0:
        return
    keep = []
    for line in path.read_text(encoding="utf-8").splitlines() if path.is_file() else []:
        try:
            if json.loads(line)["step"] <= step:
                keep.append(line)
        except (json.JSONDecodeError, KeyError, TypeError):
            continue  # a line cut by a kill
    with atomic_open(path, "w", encoding="utf-8") as f:
        f.write("".join(k + "\n" for k in keep))
