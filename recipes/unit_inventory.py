"""Choose the unit inventory of a trained encoder by held-out ABX and bitrate.

    .venv/bin/python recipes/unit_inventory.py --work work/v3 --run enc_H=work/v3/enc_H --ks 50 100 200 500

A ``textless train encoder`` run gives units two ways: its classifier head (argmax over the
targets' vocabulary, what the bundle uses, because the vocoder was trained on that vocabulary),
or k-means with K centroids on its features, HuBERT-style. For each ``--layers`` layer and each
K, k-means is fitted on ``--kmeans-files`` utterances of the training corpora (``WORK/canonical*``
and ``WORK/parallel*``, a seeded sample, never the held-out corpus); every candidate's one-hot
units are then scored like ``compare_units.py`` does: triphone ABX within / across speaker on
``WORK/eval/heldout.item`` and the bitrate of the deduplicated held-out units. The continuous
features (angular ABX) are shown too: the floor that one-hot units of that layer approach.

Units other than the head's need a vocoder trained on them; this recipe measures only the units.
Writes ``WORK/compare/inventory_NAME.json`` (rows already there are reused) and the k-means
quantizers to ``WORK/compare/inventory_NAME/l<LAYER>-k<K>.km.safetensors``; prints a table.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from common import (abx_scores, corpus_files, encoder_features, heldout_item, log, mfcc_abx,
                    score_candidate, setup_logging, training_sample, write_json)


def dense_abx(encoder, layer: int, work: Path, item: Path) -> dict:
    """ABX (angular frame distance) of the encoder's continuous features at ``layer``."""
    feats = encoder_features(encoder, corpus_files(work / "heldout"), layer)  # stem -> [frames, dim]
    scores = abx_scores(feats, item, 1 / encoder.frame_rate)
    return {"abx_within": scores["within"], "abx_across": scores["across"]}


def table(rows: list[dict], mfcc: dict) -> str:
    pct = lambda x: f"{100 * x:.1f} %"  # noqa: E731
    lines = ["| units | layer | K | ABX within | ABX across | bitrate (log2 V) | bitrate (entropy) |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        bits = (f"{r['bitrate_vocab']:.0f} | {r['bitrate_entropy']:.0f}" if "bitrate_vocab" in r else "- | -")
        lines.append(f"| {r['kind']} | {r['layer'] or '-'} | {r.get('vocab') or r['k'] or '-'} | {pct(r['abx_within'])} | "
                     f"{pct(r['abx_across'])} | {bits} |")
    lines.append(f"| MFCC 39-d, 100 Hz (reference) | - | - | {pct(mfcc['within'])} | {pct(mfcc['across'])} | - | - |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, required=True, help="recipe work folder (heldout/, canonical*/, parallel*/)")
    ap.add_argument("--run", required=True, metavar="NAME=DIR", help="a `textless train encoder` run folder")
    ap.add_argument("--ks", type=int, nargs="+", default=[50, 100, 200, 500], help="k-means sizes")
    ap.add_argument("--layers", type=int, nargs="+", default=[0],
                    help="transformer layers of the features (1..L; 0: the last, which the head reads)")
    ap.add_argument("--kmeans-files", type=int, default=600, help="training utterances the k-means sees")
    ap.add_argument("--kmeans-frames", type=int, default=100_000, help="frames kept for the k-means (reservoir)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    setup_logging()
    from textless.components import load_component
    from textless.quantizers.kmeans import train_kmeans_on_corpus

    name, _, folder = args.run.partition("=")
    folder = Path(folder)
    if not name or not (folder / "encoder.safetensors").is_file():
        ap.error(f"--run NAME=DIR with DIR/encoder.safetensors, got {args.run!r}")
    item, heldout_wavs = heldout_item(args.work), args.work / "heldout" / "wav"
    out = args.work / "compare" / f"inventory_{name}.json"
    done = {(r["kind"], r["layer"], r["k"]): r for r in json.loads(out.read_text())} if out.is_file() else {}
    encoder = load_component(folder / "encoder.safetensors").eval()
    wanted = [("head", None, None)]
    for layer in args.layers:
        layer = layer or encoder.num_layers
        wanted += [("dense", layer, None)] + [("kmeans", layer, k) for k in args.ks]
    corpora = sorted(args.work.glob("canonical*")) + sorted(args.work.glob("parallel*"))  # never heldout/
    sample = None
    for kind, layer, k in wanted:
        if (kind, layer, k) in done:
            continue
        if kind == "head":
            quantizer = load_component(folder / "quantizer.safetensors")
            row = {"vocab": quantizer.vocab_size, **score_candidate(encoder, quantizer, None, heldout_wavs, item)}
        elif kind == "dense":
            row = dense_abx(encoder, layer, args.work, item)
        else:
            sample = sample or training_sample(corpora, args.kmeans_files, args.seed)
            quantizer = train_kmeans_on_corpus(encoder, sample, k, layer=layer, max_frames=args.kmeans_frames,
                                               seed=args.seed, encoder_name=f"{name}-l{layer}")
            quantizer.save(out.with_suffix("") / f"l{layer}-k{k}.km.safetensors")
            row = score_candidate(encoder, quantizer, layer, heldout_wavs, item)
        done[(kind, layer, k)] = {"kind": kind, "layer": layer, "k": k, **row}
        log.info("%s", done[(kind, layer, k)])
        write_json(out, list(done.values()))
    print(table([done[key] for key in wanted], mfcc_abx(args.work, item)))


if __name__ == "__main__":
    main()
