"""ABX speed: textless vs zrc-abx2 (zerospeech-libriabx2) on the same features and item file.

The inputs are synthetic (no LibriSpeech here): ``--minutes`` of frames at ``--frame-rate`` Hz
and ``--dim`` dimensions (HuBERT-like: 50 Hz x 768), cut into "phones" of 2..9 frames drawn
from a Zipf-like inventory, each frame = 0.25 x phone prototype + speaker offset + noise (unit variance), split into
~15 s files by ``--speakers`` speakers; the item file lists every phone with its neighbours
(the triphone, within-context protocol). Both tools run within and across speaker with the
official settings (max_size_group 10, max_x_across 5, seed 3459) and libri-light slicing, so
their scores must agree; the script prints both times, the ratio and the score difference.

    .venv/bin/python bench/abx.py --minutes 30
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def make_inputs(root: Path, minutes: float, frame_rate: float, dim: int, n_phones: int,
                n_speakers: int, seed: int = 0):
    from textless.eval.item import write_item_file

    rng = np.random.default_rng(seed)
    protos = rng.normal(size=(n_phones, dim)).astype(np.float32)
    offsets = rng.normal(scale=0.7, size=(n_speakers, dim)).astype(np.float32)
    p = 1.0 / np.arange(1, n_phones + 1)
    p /= p.sum()
    phones = [f"P{i}" for i in range(n_phones)]
    total = int(minutes * 60 * frame_rate)
    per_file = int(15 * frame_rate)
    feats = root / "feats"
    feats.mkdir(parents=True, exist_ok=True)
    rows, f, done = [], 0, 0
    while done < total:
        spk = f % n_speakers
        n = min(per_file, total - done)
        seq, durs = [], []
        while sum(durs) < n:
            seq.append(int(rng.choice(n_phones, p=p)))
            durs.append(int(rng.integers(2, 10)))
        frames = np.concatenate([0.25 * protos[s] + offsets[spk] + rng.normal(size=(d, dim))
                                 for s, d in zip(seq, durs)]).astype(np.float32)
        np.save(feats / f"f{f:05d}.npy", frames)
        t = 0
        for k, (s, d) in enumerate(zip(seq, durs)):
            if 0 < k < len(seq) - 1:
                rows.append((f"f{f:05d}", t / frame_rate, (t + d) / frame_rate, phones[s],
                             phones[seq[k - 1]], phones[seq[k + 1]], f"s{spk}"))
            t += d
        done += len(frames)
        f += 1
    item = write_item_file(root / "bench.item", rows)
    return feats, item, len(rows), done


def run_textless(feats, item_path, shift, speakers=("within", "across")):
    from textless.eval.abx import AbxConfig, abx
    from textless.eval.features import load_feature_dir
    from textless.eval.item import read_item_file

    t = time.perf_counter()
    item = read_item_file(item_path)
    r = abx(load_feature_dir(feats, only=set(item.files)), item,
            AbxConfig(shift, legacy_slicing=True, speakers=speakers))
    return time.perf_counter() - t, {"within": r.within, "across": r.across}, r.cells


def run_zrc(feats, item_path, shift, speaker_mode="all"):
    try:
        import torchaudio  # noqa: F401
    except Exception:  # zrc_abx2.cpc imports it; feature files never use it
        sys.modules["torchaudio"] = types.ModuleType("torchaudio")
    import zrc_abx2

    t = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        res = zrc_abx2.EvalABX().eval_abx(zrc_abx2.EvalArgs(
            path_data=str(feats), path_item_file=str(item_path), feature_size=shift,
            context_mode="within", speaker_mode=speaker_mode, distance_mode="cosine"))
    return time.perf_counter() - t, {r["abx-s-condition"]: r["score"] for r in res}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--frame-rate", type=float, default=50.0)
    ap.add_argument("--dim", type=int, default=768)
    ap.add_argument("--phones", type=int, default=20)
    ap.add_argument("--speakers", type=int, default=10)
    ap.add_argument("--speaker", choices=("within", "across", "both"), default="both")
    ap.add_argument("--threads", type=int, default=None, help="torch/numba threads for both")
    args = ap.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
        os.environ["NUMBA_NUM_THREADS"] = str(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        feats, item, n_items, n_frames = make_inputs(
            Path(tmp), args.minutes, args.frame_rate, args.dim, args.phones, args.speakers)
        shift = 1.0 / args.frame_rate
        print(f"inputs: {n_frames} frames x {args.dim} ({n_frames / args.frame_rate / 60:.1f} min "
              f"at {args.frame_rate:g} Hz), {n_items} items, {args.phones} phones, "
              f"{args.speakers} speakers", flush=True)
        modes = ("within", "across") if args.speaker == "both" else (args.speaker,)
        run_textless(feats, item, shift, modes)  # warm-up: numba compile / cache load
        t_ours, ours, cells = run_textless(feats, item, shift, modes)
        show = lambda s: "  ".join(f"{m} {100 * s[m]:.4f} %" for m in modes)  # noqa: E731
        print(f"textless: {t_ours:.2f} s  {show(ours)}  cells {cells}", flush=True)
        t_ref, ref = run_zrc(feats, item, shift, "all" if args.speaker == "both" else args.speaker)
        print(f"zrc-abx2: {t_ref:.2f} s  {show(ref)}")
        diff = ", ".join(f"{m} {100 * abs(ours[m] - ref[m]):.5f}" for m in modes)
        print(f"speed-up: {t_ref / t_ours:.1f}x   |diff| {diff} points")


if __name__ == "__main__":
    main()
