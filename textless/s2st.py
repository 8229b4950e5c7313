"""Unit targets for speech-to-unit translation (fairseq ``speech_to_speech``, S2UT).

From a TSV of source/target audio pairs, :func:`make_unit_targets` encodes every target with a
pipeline and writes, in ``out_dir``:

* ``{split}.tsv``: fairseq's manifest with the header ``id src_audio src_n_frames tgt_audio
  tgt_n_frames``; ``src_n_frames`` is the source file's sample count // 160 (fairseq's estimate
  of 10 ms frames at 16 kHz), ``tgt_audio`` the unit string inline (``"12 7 7 31"``) and
  ``tgt_n_frames`` its number of units. ``reduce=True`` collapses repeated units (fairseq's
  ``--reduce-unit``);
* ``dict.txt``: the unit dictionary (``"<unit> 1"`` for every unit ``0..K-1``) that fairseq's
  ``--target-is-code`` task reads;
* ``{split}.errors.tsv`` when some pairs could not be used (missing or unreadable audio).

Example (a pairs file with ``id<TAB>src_audio<TAB>tgt_audio`` per line)::

    textless s2st-targets --model mhubert-base-vp_en_es_fr-l11-km1000 --pairs pairs.tsv --out s2ut --reduce

Encoding is journaled like ``textless encode`` (a killed run resumes) and is sharded over
ranks under ``torchrun``.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

from .corpus import DEFAULT_MAX_BATCH_S, EncodeSummary, Item, encode_files
from .errors import TextlessError
from .files import atomic_open

log = logging.getLogger(__name__)

MANIFEST_COLUMNS = ("id", "src_audio", "src_n_frames", "tgt_audio", "tgt_n_frames")


@dataclass(frozen=True)
class Pair:
    id: str
    src_audio: Path
    tgt_audio: Path


def read_pairs(path) -> list[Pair]:
    """``src<TAB>tgt`` or ``id<TAB>src<TAB>tgt`` lines, or a header naming ``src_audio``,
    ``tgt_audio`` (and ``id``). Relative paths are taken from the TSV's folder; the default id
    is the source file's stem."""
    path = Path(path)
    try:
        rows = [ln.rstrip("\n").split("\t") for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    except OSError as e:
        raise TextlessError(f"{path}: cannot read pairs ({e.strerror})") from None
    if not rows:
        raise TextlessError(f"{path}: no pairs")
    cols = None
    if "src_audio" in rows[0] and "tgt_audio" in rows[0]:
        cols, rows = rows[0], rows[1:]

    def resolve(p):
        p = Path(p)
        return p if p.is_absolute() else path.parent / p

    pairs, ids = [], set()
    for n, r in enumerate(rows, start=2 if cols else 1):
        if cols:
            if len(r) != len(cols):
                raise TextlessError(f"{path}:{n}: {len(r)} columns, header has {len(cols)}")
            d = dict(zip(cols, r))
            src, tgt, pid = d["src_audio"], d["tgt_audio"], d.get("id")
        elif len(r) == 2:
            (src, tgt), pid = r, None
        elif len(r) == 3:
            pid, src, tgt = r
        else:
            raise TextlessError(f"{path}:{n}: expected 'src<TAB>tgt' or 'id<TAB>src<TAB>tgt'")
        pid = pid or Path(src).stem
        if pid in ids:
            raise TextlessError(f"{path}:{n}: duplicate id {pid!r}")
        ids.add(pid)
        pairs.append(Pair(pid, resolve(src), resolve(tgt)))
    return pairs


def make_unit_targets(
    pairs, out_dir, pipeline, *, reduce: bool = False, split: str = "train",
    max_batch_s: float = DEFAULT_MAX_BATCH_S, show_progress: bool = True,
) -> EncodeSummary | None:
    """Write ``out_dir/{split}.tsv`` (+ ``dict.txt``) for ``pairs`` (a TSV path or :class:`Pair`
    list), encoding targets with ``pipeline``. Returns an :class:`~textless.corpus.EncodeSummary`
    whose ``out_path`` is the manifest, ``written`` its rows and ``failed`` the pairs listed in
    ``errors_path`` (``None`` on ranks > 0). ``split`` names files, so it must be a plain file name
    (:func:`textless.ids.safe_file_stem`)."""
    import soundfile as sf

    from .ids import safe_file_stem

    safe_file_stem(split)
    if not isinstance(pairs, (list, tuple)):
        pairs = read_pairs(pairs)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    items = [Item(i, p.id, p.tgt_audio) for i, p in enumerate(pairs)]
    units_path = out_dir / f"{split}.tgt_units.jsonl"
    summary = encode_files(pipeline, items, units_path, deduplicate=reduce, format="jsonl",
                           max_batch_s=max_batch_s, show_progress=show_progress)
    if summary is None:
        return None
    from .units import read_units

    units = {u.id: u for u in read_units(units_path)}
    errors = []
    if summary.errors_path is not None:
        with open(summary.errors_path, encoding="utf-8") as f:
            next(f)
            errors += [ln.rstrip("\n").split("\t") for ln in f]
        summary.errors_path.unlink()
    rows = []
    for p in pairs:
        if p.id not in units:
            continue
        try:
            src_frames = sf.info(str(p.src_audio)).frames
        except Exception as e:
            errors.append([p.id, str(p.src_audio), f"source: {' '.join(str(e).split())}"])
            continue
        u = units[p.id].units.tolist()
        rows.append([p.id, str(p.src_audio.resolve()), src_frames // 160, " ".join(map(str, u)), len(u)])
    manifest = out_dir / f"{split}.tsv"
    with atomic_open(manifest, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\", lineterminator="\n")
        w.writerow(MANIFEST_COLUMNS)
        w.writerows(rows)
    with atomic_open(out_dir / "dict.txt", "w", encoding="utf-8") as f:
        f.writelines(f"{i} 1\n" for i in range(pipeline.quantizer.vocab_size))
    err_path = out_dir / f"{split}.errors.tsv"
    if errors:
        with atomic_open(err_path, "w", encoding="utf-8") as f:
            f.write("id\tpath\treason\n")
            f.writelines("\t".join(e) + "\n" for e in errors)
    else:
        err_path.unlink(missing_ok=True)
    return EncodeSummary(len(rows), len(errors), manifest, err_path if errors else None)
