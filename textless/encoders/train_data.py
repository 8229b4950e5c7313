"""Configuration and training data of ``textless train encoder``: prepared log-mels and frame
targets, and the batches drawn from them (see :mod:`textless.encoders.train` for the training signals).

The prepared data is cached in the run folder (``data/<key>/``, keyed by the settings it depends
on); a batch is a pure function of ``(seed, step, rank)``.
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

from ..errors import TextlessError
from ..files import atomic_open, atomic_path
from ..progress import progress
from .logmel import LogMelEncoderConfig, normalize_mel
from .pretrain import span_mask

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EncoderTrainConfig:
    """Everything a run depends on. Paths are strings (saved in ``state.pt``)."""

    corpora: tuple[str, ...]
    targets: str
    out_dir: str
    canonical: str | None = None      # speaker id of the canonical voice (cross-voice alignment)
    align_with: str | None = None     # run folder of an earlier encoder: DTW on its unit posteriors
    model: LogMelEncoderConfig = field(default_factory=LogMelEncoderConfig)
    perturb_views: int = 0
    max_formant: float = 1.4
    max_pitch: float = 2.0
    eq_db: float = 0.0
    mask_prob: float = 0.0
    mask_length: int = 5
    unmasked_weight: float = 0.0
    steps: int = 2000                 # the schedule's length (warm-up, cosine decay)
    stop_at_step: int | None = None   # end this run here without changing the schedule
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


def _corpus_items(corpora) -> list:
    """The :class:`~textless.data.manifest.ManifestItem` s (id, path, text, speaker) of the corpus
    folders' ``manifest.tsv`` (ids unique overall)."""
    from ..data.manifest import read_items

    items, seen = [], {}
    for folder in map(Path, corpora):
        for it in read_items(folder / "manifest.tsv"):
            if it.id in seen:
                raise TextlessError(f"utterance id {it.id} is in both {seen[it.id]} and {folder} (give "
                                    "batches disjoint ids: textless data synth --first-index)")
            seen[it.id] = folder
            items.append(it)
    if not items:
        raise TextlessError("the training corpora hold no utterances")
    return items


def _prepare_one(job) -> tuple:
    """Worker: ``(clean log-mel [F, M], perturbed views [P, F, M], MFCC [F, 39] or None)``."""
    path, cfg_dict, views, seed, index, want_mfcc, max_formant, max_pitch = job
    from ..audio import load_audio
    from ..data.perturb import change_gender, random_speaker
    from .spectral import SpectralEncoder, logmel_config

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
    return mels[0], np.stack(mels[1:]) if views else None, alignment_mfcc(wav, cfg) if want_mfcc else None


def alignment_mfcc(wav: np.ndarray, cfg: LogMelEncoderConfig) -> np.ndarray:
    """The frames the first iteration's DTW aligns: per-utterance normalised 39-d MFCC ``[F, 39]``
    of ``wav: [T]`` on the encoder's frame grid (``cfg``'s window and hop)."""
    from .spectral import SpectralEncoder, mfcc_config

    spec = SpectralEncoder(mfcc_config(n_fft=cfg.n_fft, hop_length=cfg.hop_length, cmvn=True))
    f, n = spec.features(torch.from_numpy(wav)[None])
    return f[0, : int(n[0])].numpy()


def _data_key(c: EncoderTrainConfig) -> str:
    keys = ("corpora", "targets", "canonical", "align_with", "model", "perturb_views", "max_formant",
            "max_pitch", "valid_fraction", "seed")
    d = dataclasses.asdict(c)
    if c.align_with:  # the aligning model's weights, not only its folder's name
        d["align_with"] = [hashlib.sha256((Path(c.align_with) / f).read_bytes()).hexdigest()
                           for f in ALIGN_FILES]
    return hashlib.sha256(json.dumps([d[k] for k in keys], sort_keys=True).encode()).hexdigest()[:16]


ALIGN_FILES = ("encoder.safetensors", "quantizer.safetensors")


def load_aligner(folder, model: LogMelEncoderConfig):
    """``mel [F, n_mels]`` -> unit posteriors ``[F, K]`` of the encoder + head in ``folder`` (an
    earlier ``textless train encoder`` run), whose log-mel front-end must be ``model``'s."""
    from ..components import load_component

    folder = Path(folder)
    missing = [f for f in ALIGN_FILES if not (folder / f).is_file()]
    if missing:
        raise TextlessError(f"{folder}: no {' or '.join(missing)} (the folder of a 'textless train "
                            "encoder' run)")
    enc = load_component(folder / ALIGN_FILES[0], role="encoder")
    head = load_component(folder / ALIGN_FILES[1], role="quantizer")
    front = ("sample_rate", "hop_length", "n_fft", "n_mels")
    if not isinstance(getattr(enc, "cfg", None), LogMelEncoderConfig) or any(
            getattr(enc.cfg, k) != getattr(model, k) for k in front):
        raise TextlessError(f"{folder}: its encoder is not a log-mel encoder with this run's front-end "
                            f"({', '.join(f'{k}={getattr(model, k)}' for k in front)})")

    @torch.inference_mode()
    def posteriors(mel: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.asarray(mel, dtype=np.float32))[None]
        return head.logits(enc.forward_mel(x, torch.tensor([len(mel)])))[0].softmax(-1).numpy()

    return posteriors


def prepare_data(c: EncoderTrainConfig, show_progress: bool = True) -> Prepared:
    """Log-mels (clean + perturbed views) and frame targets of every usable utterance, cached in
    ``out_dir/data/`` (keyed by the settings they depend on)."""
    from concurrent.futures import ProcessPoolExecutor

    from ..units import read_units

    if c.align_with and not c.canonical:
        raise TextlessError("aligning with an earlier encoder needs a canonical voice (--canonical)")
    aligner = load_aligner(c.align_with, c.model) if c.align_with else None
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
        canon = {it.text: it for it in items if it.speaker == c.canonical and it.id in targets}
        if not canon:
            raise TextlessError(f"no utterance of the canonical speaker {c.canonical!r} has targets "
                                f"in {c.targets} (speaker ids come from speakers.tsv)")
        items = [it for it in items if it.text in canon]
    else:
        items = [it for it in items if it.id in targets]
    if not items:
        raise TextlessError("no training utterance has targets")
    sentences = sorted({it.text or it.id for it in items})
    rng = np.random.default_rng(c.seed)
    held = set(rng.permutation(len(sentences))[: int(len(sentences) * c.valid_fraction)].tolist())
    held_text = {sentences[i] for i in held}

    jobs = [(str(it.path), dataclasses.asdict(c.model), c.perturb_views, c.seed, i,
             bool(c.canonical) and aligner is None, c.max_formant, c.max_pitch) for i, it in enumerate(items)]
    workers = c.workers or (torch.get_num_threads() or 1)
    bar = progress(total=len(jobs), desc="prepare encoder data", unit="utt", enabled=show_progress)
    results = []
    with ProcessPoolExecutor(workers) as pool:
        for r in pool.map(_prepare_one, jobs, chunksize=8):
            results.append(r)
            bar.update(1)
    bar.close()

    from .targets import transfer_labels

    align_of = {}  # the frames DTW aligns: MFCCs [F, 39], or the aligner's unit posteriors [F, K]
    if c.canonical:
        bar = progress(total=len(items), desc="aligner posteriors", unit="utt",
                       enabled=show_progress and aligner is not None)
        for it, r in zip(items, results):
            align_of[it.id] = aligner(r[0]) if aligner else r[2]
            bar.update(1)
        bar.close()
    mels, views, labels, lengths, valid = [], [], [], [], []
    for it, (mel, view, _) in zip(items, results):
        if c.canonical:
            ref = canon[it.text]
            ref_labels = targets[ref.id].units.numpy()
            lab = ref_labels if ref is it else transfer_labels(align_of[ref.id], ref_labels, align_of[it.id])
        else:
            lab = targets[it.id].units.numpy()
        n = min(len(mel), len(lab))
        mels.append(mel[:n])
        if view is not None:
            views.append(view[:, :n])
        labels.append(np.asarray(lab[:n], dtype=np.int64))
        lengths.append(n)
        valid.append((it.text or it.id) in held_text)
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
