"""Batch encoding of a corpus: audio files -> unit file (or dense features), at scale.

(This module was ``textless/encode.py``; renamed so that it is not confused with ``encoders/``.)

* Inputs: files, folders (searched recursively for audio) or a manifest
  (:func:`textless.data.manifest.read_items`); ids are file stems unless the manifest names
  them; the output keeps the input order.
* Batches: items sorted by duration (longest first) and grouped so that
  ``items x longest`` stays within ``max_batch_s`` seconds of padded audio.
* Errors: an unreadable/too short/too long file is recorded in ``OUT.errors.tsv``
  (``id, path, reason``) and the rest completes.
* Ids: two inputs with the same id (file stem) are refused before any work, naming both paths
  (their outputs would overwrite each other).
* Resume: every finished batch is appended (and flushed) to ``OUT.partial`` (``OUT.rank{r}.partial``
  under torch.distributed) with a fingerprint of the run; a rerun skips the batches found there
  and the final file equals an uninterrupted run (batches are the same, so are their results bit
  for bit). The fingerprint covers the settings, each input's path, size and modification time,
  and :func:`weights_digest` of the model (sha256 of the bytes of every parameter and buffer of
  the loaded encoder and quantizer, computed once per run: about a second for a 360 MB HuBERT).
  Any change (an input rewritten, another k-means file behind the same name) starts the run
  over instead of reusing old results.
* Distributed: under ``torchrun`` (``WORLD_SIZE > 1``) batch ``b`` goes to rank ``b % world``;
  every rank journals its own batches, then rank 0 merges them in input order.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .data.manifest import ManifestItem, check_unique_ids, folder_items, read_items
from .distributed import init_distributed
from .errors import AudioError, TextlessError
from .files import atomic_open
from .journal import Journal, fingerprint as _fingerprint, weights_digest  # noqa: F401 (weights_digest: API)
from .progress import progress

log = logging.getLogger(__name__)

DEFAULT_MAX_BATCH_S = 100.0


@dataclass(frozen=True)
class Item:
    """One input: its position in the input list, ``id`` (file stem) and path."""

    index: int
    id: str
    path: Path


@dataclass
class EncodeSummary:
    """What a run produced: ``written`` utterances, ``failed`` ones (listed in ``errors_path``)."""

    written: int
    failed: int
    out_path: Path
    errors_path: Path | None


# ----------------------------------------------------------------------------- inputs
def collect_inputs(
    inputs: Sequence[str | os.PathLike] = (), manifest=None, *, unique_ids: bool = False
) -> list[Item]:
    """Files, folders (recursive, sorted) and a manifest -> :class:`Item` list in input order.

    ``unique_ids``: refuse two inputs with the same stem (see :func:`check_unique_ids`); the
    commands that name results after ids set it, so the error comes before any model loads."""
    found: list[ManifestItem] = []
    for x in inputs:
        p = Path(x)  # a missing file becomes an error row, it does not stop the run
        found.extend(folder_items(p) if p.is_dir() else [ManifestItem(p.stem, p)])
    if manifest is not None:
        found.extend(read_items(manifest))
    if not found:
        raise TextlessError("no inputs: give audio files, a folder, or --manifest")
    items = [Item(i, it.id, it.path) for i, it in enumerate(found)]
    if unique_ids:
        check_unique_ids(items)
    return items


def durations_s(items: Sequence[Item]) -> list[float]:
    """Header durations in seconds (0 for files soundfile cannot read: they fail later)."""
    import soundfile as sf

    out = []
    for it in items:
        try:
            info = sf.info(str(it.path))
            out.append(info.frames / info.samplerate)
        except Exception:
            out.append(0.0)
    return out


def make_batches(items: Sequence[Item], seconds: Sequence[float], max_batch_s: float) -> list[list[Item]]:
    """Sort by duration (longest first) and group while ``len(batch) * longest <= max_batch_s``.

    >>> its = [Item(i, str(i), Path(f"{i}.wav")) for i in range(4)]
    >>> [[it.index for it in b] for b in make_batches(its, [1.0, 5.0, 2.0, 2.5], 6.0)]
    [[1], [3, 2], [0]]
    """
    order = sorted(range(len(items)), key=lambda i: (-seconds[i], i))
    batches, cur, longest = [], [], 0.0
    for i in order:
        d = seconds[i]
        if cur and (len(cur) + 1) * max(longest, d) > max_batch_s:
            batches.append(cur)
            cur, longest = [], 0.0
        cur.append(items[i])
        longest = max(longest, d)
    if cur:
        batches.append(cur)
    return batches


# ----------------------------------------------------------------------------- distributed
def _barrier(world: int):
    if world > 1:
        import torch.distributed as dist

        dist.barrier()


# ----------------------------------------------------------------------------- running
def _load_batch(items, load: Callable) -> tuple[list, list, list[dict]]:
    wavs, ok, errors = [], [], []
    for it in items:
        try:
            wavs.append(load(it.path))
            ok.append(it)
        except AudioError as e:
            errors.append({"i": it.index, "error": str(e)})
    return wavs, ok, errors


def run_journaled(
    items: Sequence[Item], out_path: Path, *, load: Callable, process: Callable, settings: dict,
    max_batch_s: float = DEFAULT_MAX_BATCH_S, device="cpu", show_progress: bool = True,
    desc: str = "encode",
) -> tuple[list[dict], int]:
    """Shared engine of :func:`encode_files`: batches, journal, sharding. ``process(items, wavs)``
    returns one output line per item. Returns ``(records in input order, world)`` on rank 0 and
    ``([], world)`` on other ranks. Items with the same id are refused before any work."""
    check_unique_ids(items)
    rank, world, _ = init_distributed(device)
    batches = make_batches(items, durations_s(items), max_batch_s)
    mine = [b for j, b in enumerate(batches) if j % world == rank]
    suffix = ".partial" if world == 1 else f".rank{rank}of{world}.partial"
    journal = Journal(out_path.with_name(out_path.name + suffix), _fingerprint(items, settings))
    todo = [b for b in mine if not journal.has_batch(b)]
    if len(todo) < len(mine):
        log.info("resuming: %d of %d batches already done", len(mine) - len(todo), len(mine))
    bar = progress(total=sum(len(b) for b in todo), desc=desc, unit="file",
                   enabled=show_progress and rank == 0)
    for batch in todo:
        wavs, ok, records = _load_batch(batch, load)
        if ok:
            lines = process(ok, wavs)
            records += [{"i": it.index, "line": ln} for it, ln in zip(ok, lines)]
        journal.add(records)
        bar.update(len(batch))
    bar.close()
    _barrier(world)
    if rank != 0:
        return [], world
    done = dict(journal.done)
    others = [out_path.with_name(out_path.name + f".rank{r}of{world}.partial") for r in range(1, world)]
    for p in others:
        done.update(Journal(p, journal.fingerprint).done)
    missing = [it.index for it in items if it.index not in done]
    if missing:
        raise TextlessError(f"{len(missing)} inputs have no result (a rank failed?): rerun to resume")
    return [done[it.index] for it in items], world


def _finish(items, records, out_path: Path, world: int, write_output: bool = True) -> EncodeSummary:
    errors_path = out_path.with_name(out_path.name + ".errors.tsv")
    failed = [(it, r["error"]) for it, r in zip(items, records) if "error" in r]
    if write_output:
        with atomic_open(out_path, "w", encoding="utf-8") as f:
            for r in records:
                if "line" in r:
                    f.write(r["line"] + "\n")
    if failed:
        with atomic_open(errors_path, "w", encoding="utf-8") as f:
            f.write("id\tpath\treason\n")
            for it, reason in failed:
                f.write(f"{it.id}\t{it.path}\t{' '.join(reason.split())}\n")
    else:
        errors_path.unlink(missing_ok=True)
    suffixes = [".partial"] if world == 1 else [f".rank{r}of{world}.partial" for r in range(world)]
    for s in suffixes:
        out_path.with_name(out_path.name + s).unlink(missing_ok=True)
    return EncodeSummary(len(records) - len(failed), len(failed), out_path,
                         errors_path if failed else None)


def encode_files(
    pipeline, items: Sequence[Item], out_path, *, deduplicate: bool = True, format: str = "jsonl",
    max_batch_s: float = DEFAULT_MAX_BATCH_S, show_progress: bool = True,
) -> EncodeSummary | None:
    """Encode ``items`` with ``pipeline`` (:class:`textless.pipeline.Pipeline`) into ``out_path``
    (``format`` ``"jsonl"`` or ``"fairseq"``), resuming a killed run. Returns the summary on
    rank 0, ``None`` on other ranks of a distributed run."""
    from .units import format_fairseq, to_json

    if format not in ("jsonl", "fairseq"):
        raise TextlessError(f"unknown format {format!r}: use jsonl or fairseq")
    out_path = Path(out_path)
    settings = {"model": pipeline.name, "layer": pipeline.layer, "dedup": deduplicate, "bf16": pipeline.bf16,
                "format": format, "max_batch_s": max_batch_s, "vocab": pipeline.quantizer.vocab_size,
                "weights": weights_digest(pipeline.encoder, pipeline.quantizer)}

    def process(ok, wavs):
        units = pipeline.encode_batch(wavs, deduplicate=deduplicate, ids=[it.id for it in ok])
        if format == "jsonl":
            return [json.dumps(to_json(u)) for u in units]
        return [format_fairseq(u) for u in units]

    records, world = run_journaled(
        items, out_path, load=pipeline.load, process=process, settings=settings,
        max_batch_s=max_batch_s, device=pipeline.device, show_progress=show_progress,
    )
    if not records:
        return None
    return _finish(items, records, out_path, world)


def extract_features(
    encoder, items: Sequence[Item], out_dir, *, layer: int | None, max_batch_s: float = DEFAULT_MAX_BATCH_S,
    device="cpu", show_progress: bool = True, bf16: bool = False,
) -> EncodeSummary | None:
    """Write ``out_dir/<id>.npy`` float32 ``[frames, dim]`` per input (the ZeroSpeech layout);
    failures go to ``out_dir/errors.tsv``. Resumable and distributed like :func:`encode_files`.
    Ids that cannot name a file (:func:`textless.ids.safe_file_stem`) or that repeat are
    refused before any work. ``bf16``: see :func:`textless.encoders.batch.encoder_autocast`."""
    from .audio import load_audio
    from .encoders.batch import features_of
    from .ids import safe_file_stem
    from .encoders.batch import encoder_autocast

    for it in items:
        safe_file_stem(it.id)
    check_unique_ids(items)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    settings = {"encoder": type(encoder).__name__, "cfg": repr(getattr(encoder, "cfg", None)),
                "layer": layer, "max_batch_s": max_batch_s, "bf16": bf16, "weights": weights_digest(encoder)}

    def load(path):
        return load_audio(path, encoder.sample_rate, min_samples=encoder.receptive_field)[0]

    def process(ok, wavs):
        with encoder_autocast(device, bf16):
            feats = features_of(encoder, wavs, layer, device=device)
        lines = []
        for it, f in zip(ok, feats):
            target = out_dir / f"{safe_file_stem(it.id)}.npy"
            with atomic_open(target, "wb") as fh:
                np.save(fh, f.cpu().numpy())
            lines.append(str(target))
        return lines

    index = out_dir / "features"
    records, world = run_journaled(
        items, index, load=load, process=process, settings=settings, max_batch_s=max_batch_s,
        device=device, show_progress=show_progress, desc="features",
    )
    if not records:
        return None
    summary = _finish(items, records, index, world, write_output=False)
    summary.out_path = out_dir
    errors = out_dir / "features.errors.tsv"
    if errors.is_file():
        os.replace(errors, out_dir / "errors.tsv")
        summary.errors_path = out_dir / "errors.tsv"
    else:
        (out_dir / "errors.tsv").unlink(missing_ok=True)
    return summary
