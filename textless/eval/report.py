"""One evaluation report: JSON + Markdown with PNG plots (matplotlib, Agg backend).

:func:`collect` gathers results: existing result files (``eval abx``/``lexical``/``syntactic``
/``wer`` JSON) and/or what a pipeline can compute on a ZeroSpeech-layout dataset:

* ``phonetic/<split>-*/`` with wavs and a ``*.item`` file -> ABX (dense features) and the
  unit statistics (frequency, bitrate) of those wavs;
* ``lexical/<split>/``, ``syntactic/<split>/`` -> sWUGGY / sBLIMP when the pipeline has a unit LM;
* resynthesis of the phonetic wavs when the pipeline has a vocoder -> WER/PER (pocketsphinx,
  reference text = ASR of the original audio).

:func:`build_report` writes ``report.json``, ``report.md`` and the plots
``unit_frequency.png``, ``abx_pairs.png``, ``wer.png`` (those with data).
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from pathlib import Path

from ..errors import TextlessError
from ..files import atomic_open

log = logging.getLogger(__name__)


def _read_json(path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise TextlessError(f"{path}: no such result file")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise TextlessError(f"{path}: not JSON ({e.msg})") from None


def unit_statistics(utterances) -> dict:
    """Unit counts and bitrates (both conventions) of :class:`~textless.units.Units`."""
    from ..units import bitrate

    counts = Counter()
    for u in utterances:
        counts.update(u.units.tolist())
    out = {"utterances": len(utterances), "counts": {str(k): v for k, v in sorted(counts.items())},
           "used_units": len(counts), "vocab_size": utterances[0].vocab_size,
           "entropy_bps": bitrate(utterances, "entropy")}
    if all(u.vocab_size for u in utterances):
        out["vocab_bps"] = bitrate(utterances, "vocab")
    return out


def collect(model=None, dataset=None, split="dev", device="cpu", files=None, units=None,
            max_files=None, work_dir=None) -> dict:
    """Results for a report (see the module docstring). ``files``: ``{task: json path}``."""
    results: dict = {"model": model, "dataset": None if dataset is None else str(dataset)}
    for task, path in (files or {}).items():
        if path:
            results[task] = _read_json(path)
    if units:
        from ..units import read_units

        results["units"] = unit_statistics(read_units(units))
    if model and dataset:
        _run_pipeline(results, model, Path(dataset), split, device, max_files, work_dir)
    if len(results) == 2:
        raise TextlessError("nothing to report: give --model and --dataset, or result files")
    return results


def _run_pipeline(results, model, dataset: Path, split, device, max_files, work_dir):
    from ..pipeline import load_pipeline

    pipe = load_pipeline(model, device=device)
    phonetic = sorted(p for p in (dataset / "phonetic").glob(f"{split}*") if p.is_dir())
    for sub in phonetic:
        items = sorted(sub.glob("*.item"))
        wavs = sorted(sub.glob("*.wav"))[:max_files]
        if not wavs:
            continue
        if "units" not in results:
            results["units"] = unit_statistics([pipe.encode_file(w) for w in wavs])
        if items and "abx" not in results:
            from .abx import AbxConfig, abx
            from .features import pipeline_features
            from .item import read_item_file

            item = read_item_file(items[0])
            keep = {w.stem for w in wavs} & set(item.files)
            feats = pipeline_features(pipe, sub, "dense", only=keep)
            results["abx"] = abx(feats, item, AbxConfig(1.0 / pipe.frame_rate)).to_json()
            results["abx"]["subset"] = sub.name
        if pipe.vocoder is not None and "wer" not in results and work_dir is not None:
            from ..audio import write_audio
            from .asr import intelligibility, pair_folders

            out = Path(work_dir) / "resynthesis" / sub.name
            for w in wavs:
                original = pipe.load(w)
                wav = pipe.resynthesize(pipe.encode(original, id=w.stem), wav=original)
                write_audio(out / w.name, wav.cpu().numpy(), pipe.vocoder.sample_rate)
            results["wer"] = intelligibility(pair_folders(sub, out))
    if pipe.ulm is not None:
        from .lexical import evaluate_split

        for task in ("lexical", "syntactic"):
            if (dataset / task / split / "gold.csv").is_file() and task not in results:
                results[task] = evaluate_split(task, dataset, pipe, pipe.ulm,
                                               work_dir or ".", split)


# ------------------------------------------------------------------------------- writing
def _plots(results: dict, out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    if results.get("units", {}).get("counts"):
        counts = results["units"]["counts"]
        fig, ax = plt.subplots(figsize=(8, 3))
        keys = sorted(counts, key=int)
        ax.bar([int(k) for k in keys], [counts[k] for k in keys], width=1.0)
        ax.set_xlabel("unit id")
        ax.set_ylabel("count")
        ax.set_title("Unit frequency")
        fig.tight_layout()
        fig.savefig(out / "unit_frequency.png", dpi=100)
        plt.close(fig)
        written.append("unit_frequency.png")
    by_pair = results.get("abx", {}).get("by_pair") or {}
    if any(by_pair.values()):
        fig, axes = plt.subplots(1, len(by_pair), figsize=(8, 4), squeeze=False)
        for ax, (mode, pairs) in zip(axes[0], by_pair.items()):
            worst = sorted(pairs.items(), key=lambda kv: -kv[1])[:20]
            ax.barh([k for k, _ in worst][::-1], [100 * v for _, v in worst][::-1])
            ax.set_xlabel("error (%)")
            ax.set_title(f"ABX {mode} speaker: hardest pairs")
        fig.tight_layout()
        fig.savefig(out / "abx_pairs.png", dpi=100)
        plt.close(fig)
        written.append("abx_pairs.png")
    wer = results.get("wer")
    if wer:
        names = [k for k in ("wer_reference", "wer_resynthesis", "per_reference",
                             "per_resynthesis") if k in wer]
        fig, ax = plt.subplots(figsize=(6, 3))
        ax.bar(names, [100 * wer[k] for k in names],
               color=["tab:blue", "tab:orange"] * 2)
        ax.set_ylabel("%")
        ax.set_title("ASR error rates")
        fig.tight_layout()
        fig.savefig(out / "wer.png", dpi=100)
        plt.close(fig)
        written.append("wer.png")
    return written


def _pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.2f} %"


def _markdown(results: dict, plots: list[str]) -> str:
    lines = ["# textless evaluation report", ""]
    if results.get("model"):
        lines.append(f"Model: `{results['model']}`" + (
            f", dataset: `{results['dataset']}`" if results.get("dataset") else ""))
        lines.append("")
    lines += ["| Metric | Value |", "|---|---|"]
    abx = results.get("abx")
    if abx:
        lines.append(f"| ABX within speaker | {_pct(abx.get('within'))} |")
        lines.append(f"| ABX across speaker | {_pct(abx.get('across'))} |")
    for task, name in (("lexical", "sWUGGY"), ("syntactic", "sBLIMP")):
        if results.get(task):
            lines.append(f"| {name} accuracy | {_pct(results[task].get('all'))} |")
            if results[task].get("invocab") is not None:
                lines.append(f"| {name} in-vocabulary | {_pct(results[task]['invocab'])} |")
    wer = results.get("wer")
    if wer:
        for k in ("wer_reference", "wer_resynthesis", "wer_delta", "per_reference",
                  "per_resynthesis", "per_delta"):
            if k in wer:
                lines.append(f"| {k[:3].upper()} {k[4:]} | {_pct(wer[k])} |")
    units = results.get("units")
    if units:
        lines.append(f"| units used | {units['used_units']} of {units.get('vocab_size')} |")
        if units.get("vocab_bps") is not None:
            lines.append(f"| bitrate (log2 V) | {units['vocab_bps']:.1f} bps |")
        lines.append(f"| bitrate (entropy) | {units['entropy_bps']:.1f} bps |")
    lines.append("")
    for p in plots:
        lines += [f"![{p[:-4]}]({p})", ""]
    return "\n".join(lines)


def build_report(results: dict, out_dir: str | os.PathLike) -> dict:
    """Write ``report.json``, ``report.md`` and plots into ``out_dir``; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plots = _plots(results, out)
    with atomic_open(out / "report.json", "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2, default=str)
    with atomic_open(out / "report.md", "w", encoding="utf-8") as f:
        f.write(_markdown(results, plots))
    return {"json": out / "report.json", "markdown": out / "report.md",
            "plots": [out / p for p in plots]}
