"""Training data of the unit HiFi-GAN: audio + units in memory, seeded random segment crops.

Each utterance is ``wav [N * hop]`` float32 and ``units [N]`` int64 (undeduplicated frames), with
a speaker index and optionally unit-aligned normalised F0 ``[N]``.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from ..audio import load_audio
from ..data.manifest import ManifestItem, check_unique_ids, folder_items, read_items
from ..errors import TextlessError
from ..progress import progress
from ..units import dedup, read_units


@dataclass
class Utterance:
    id: str
    wav: torch.Tensor  # [N * hop] float32
    units: torch.Tensor  # [N] int64
    speaker: int = 0
    f0: torch.Tensor | None = None  # [N] normalised log-F0, 0 = unvoiced


def read_audio_list(audio: str | os.PathLike) -> list[ManifestItem]:
    """``--audio``: a folder searched recursively for audio (speaker None; the file stems are the
    ids, so they must be unique) or a manifest / list file (:func:`textless.data.manifest.read_items`:
    ``path[<TAB>speaker]`` lines, or a fairseq manifest with ``speakers.tsv`` beside it)."""
    audio = Path(audio)
    if audio.is_dir():
        items = folder_items(audio)
        check_unique_ids(items)
        return items
    if not audio.is_file():
        raise TextlessError(f"{audio}: no such folder or list file")
    items = read_items(audio)
    if not items:
        raise TextlessError(f"{audio}: no audio files listed")
    return items


def load_corpus(audio, sample_rate: int, *, units_path=None, model=None, f0: bool = False,
                f0_method: str = "dio", show_progress: bool = True):
    """Load audio + units. Returns ``(utterances, frame_rate, vocab_size, speakers, f0_stats)``.

    ``units_path``: JSONL/fairseq unit file whose ids are the wav stems (deduplicated records are
    expanded by their durations); or ``model``: a loaded :class:`textless.pipeline.Pipeline` to
    encode with (the caller loads it: a stage does not import the pipeline).
    """
    entries = read_audio_list(audio)
    if isinstance(model, (str, os.PathLike)):
        raise TypeError("load_corpus takes a loaded pipeline as model, not a name or path")
    if model is not None:
        pipeline = model
        by_id, frame_rate, vocab = None, pipeline.frame_rate, pipeline.quantizer.vocab_size
    else:
        records = read_units(units_path)
        by_id = {u.id: u.expanded() for u in records}
        rates = {u.frame_rate for u in records}
        if len(rates) != 1 or None in rates:
            raise TextlessError(f"{units_path}: units need one known frame_rate (got {sorted(map(str, rates))})")
        frame_rate = rates.pop()
        vocabs = {u.vocab_size for u in records if u.vocab_size}
        vocab = max(vocabs) if vocabs else 1 + max(int(u.units.max()) for u in records if len(u))
    hop = sample_rate / frame_rate
    if abs(hop - round(hop)) > 1e-6:
        raise TextlessError(f"{sample_rate} Hz audio / {frame_rate:g} Hz units is not an integer hop")
    hop = int(round(hop))
    speakers = sorted({it.speaker for it in entries if it.speaker is not None})
    utts, raw_f0 = [], {}
    for it in progress(entries, desc="loading corpus", unit="utt", enabled=show_progress):
        wav, _ = load_audio(it.path, sample_rate)
        uid, spk = it.id, it.speaker
        if by_id is None:
            u = pipeline.encode_file(it.path, deduplicate=False).units.cpu()
        else:
            if uid not in by_id:
                raise TextlessError(f"{units_path}: no units for {uid} ({it.path})")
            u = by_id[uid].units
        n = u.numel()
        w = torch.from_numpy(wav[: n * hop])
        if w.numel() < n * hop:
            w = F.pad(w, (0, n * hop - w.numel()))
        utts.append(Utterance(uid, w, u, speakers.index(spk) if spk is not None else 0))
        if f0:
            from ..prosody import unit_aligned_f0

            raw_f0[uid] = unit_aligned_f0(wav, sample_rate, n, frame_rate, method=f0_method)
    stats = {}
    if f0:
        from ..prosody import normalize_f0, speaker_stats

        spk_of = {u.id: u.speaker for u in utts}
        stats = speaker_stats(raw_f0, spk_of)
        for u in utts:
            u.f0 = torch.from_numpy(normalize_f0(raw_f0[u.id], stats[u.speaker]))
    f0_stats = {(speakers[k] if speakers else str(k)): dataclasses.asdict(v) for k, v in stats.items()}
    return utts, frame_rate, int(vocab), speakers, f0_stats


def draw_batch(utts: list[Utterance], step: int, seed: int, batch: int, rank: int, world: int,
               frames: int, hop: int) -> dict:
    """This rank's slice of step ``step``'s global batch: ``code [B, S]``, ``wav [B, S * hop]``,
    ``speaker [B]``, ``f0 [B, S]`` (or None). Crops are uniform over utterances, then over starts."""
    g = torch.Generator().manual_seed(seed * 1_000_003 + step)
    total = batch * world
    which = torch.randint(len(utts), (total,), generator=g)
    fracs = torch.rand(total, generator=g)
    code, wav, spk, f0 = [], [], [], []
    for i in range(rank * batch, (rank + 1) * batch):
        u = utts[int(which[i])]
        start = int(fracs[i] * (u.units.numel() - frames + 1))
        code.append(u.units[start : start + frames])
        wav.append(u.wav[start * hop : (start + frames) * hop])
        spk.append(u.speaker)
        if u.f0 is not None:
            f0.append(u.f0[start : start + frames])
    return {"code": torch.stack(code), "wav": torch.stack(wav), "speaker": torch.tensor(spk),
            "f0": torch.stack(f0) if f0 else None}


def duration_targets(code: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Deduplicate each row of ``code [B, S]`` -> padded ``units [B, M]``, ``durations [B, M]``
    and a validity ``mask [B, M]``."""
    rows = [dedup(c) for c in code]
    m = max(u.numel() for u, _ in rows)
    units = torch.zeros(len(rows), m, dtype=torch.long)
    durs = torch.ones(len(rows), m, dtype=torch.long)
    mask = torch.zeros(len(rows), m, dtype=torch.bool)
    for i, (u, d) in enumerate(rows):
        units[i, : u.numel()], durs[i, : u.numel()], mask[i, : u.numel()] = u, d, True
    return units, durs, mask
