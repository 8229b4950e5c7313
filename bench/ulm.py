"""Unit LM decoding speed: KV cache vs recomputing the whole prefix at every step.

Random weights, batch 1, a 20-unit prompt, 500 generated tokens, fp32 on the CPU (or --device).
Both ways sample the same tokens (same seed; checked), so the ratio is of equal work.

* ``cached``: :func:`textless.ulm.sample.generate` with the KV cache, timed end to end.
* ``recompute``: the same loop without the cache (a full forward of the growing prefix per step).
  Timed end to end where ``--full-recompute`` names the size; otherwise estimated as the sum
  over steps of one full forward at each prefix length, from forwards timed at ``--points``
  lengths and interpolated linearly (the default size is timed both ways, to show the estimate
  holds).

    python bench/ulm.py                      # default size (6 x 512) and GSLM big (12 x 1024)
    python bench/ulm.py --sizes default --tokens 200

``--prompt-demo DIR`` instead runs the prompt-tuning demonstration (SpeechPrompt): a spoken
keyword task (yes / no / up / down) built with textless.data voices, units from MFCC + k-means,
a tiny unit LM pretrained on the training units, prompts tuned on training voices and accuracy
reported on held-out voices against the majority-class baseline.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from textless.ulm.model import UnitLM, UnitLMConfig
from textless.ulm.sample import generate

SIZES = {
    "default": lambda: UnitLMConfig(vocab_size=100, dropout=0.0),
    "big": lambda: UnitLMConfig.gslm_big(vocab_size=100, dropout=0.0),
}


def timed(fn, repeat=1):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


@torch.inference_mode()
def estimate_recompute(model, prompt_len, tokens, points, device):
    """Seconds of the recompute loop, from single forwards at ``points`` prefix lengths."""
    lengths = np.unique(np.linspace(prompt_len, prompt_len + tokens - 1, points).round().astype(int))
    secs = []
    for n in lengths:
        x = torch.randint(0, 100, (1, int(n)), device=device)
        model(x)  # warm-up at this shape
        s, _ = timed(lambda: (model(x), _sync(device)), repeat=2)
        secs.append(s)
    all_lengths = np.arange(prompt_len, prompt_len + tokens)
    return float(np.interp(all_lengths, lengths, secs).sum()), dict(zip(lengths.tolist(), secs))


@torch.inference_mode()
def paired(model, prompt_len, tokens, points, device, repeats=3):
    """Load-robust ratio: at ``points`` prefix lengths, time one cached decode step and one full
    forward of the same prefix back to back (best of ``repeats`` each, interleaved), interpolate
    both over every step of the loop and divide the sums. Returns (cached_s, recompute_s)."""
    lengths = np.unique(np.linspace(prompt_len, prompt_len + tokens - 1, points).round().astype(int))
    step_s, full_s = [], []
    for n in lengths:
        n = int(n)
        x = torch.randint(0, 100, (1, n), device=device)
        cache = model.new_cache(1, n + repeats + 2)
        model(x[:, :-1], cache)
        one = x[:, -1:]
        best_step, best_full = float("inf"), float("inf")
        model(x)  # warm-up at this shape
        for _ in range(repeats):
            t = time.perf_counter()
            model(one, cache)
            _sync(device)
            best_step = min(best_step, time.perf_counter() - t)
            cache.length -= 1  # decode the same position again
            t = time.perf_counter()
            model(x)
            _sync(device)
            best_full = min(best_full, time.perf_counter() - t)
        step_s.append(best_step)
        full_s.append(best_full)
    all_lengths = np.arange(prompt_len, prompt_len + tokens)
    return (float(np.interp(all_lengths, lengths, step_s).sum()),
            float(np.interp(all_lengths, lengths, full_s).sum()))


def _sync(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def run(size, tokens, points, full_recompute, device):
    torch.manual_seed(0)
    model = UnitLM(SIZES[size]()).to(device).eval()
    prompt = torch.cat([torch.tensor([model.eos]), torch.randint(0, 100, (20,))])
    kw = dict(max_new_tokens=tokens, temperature=1.0, stop_at_eos=False)
    generate(model, prompt, generator=torch.Generator(device).manual_seed(0), max_new_tokens=8,
             temperature=1.0, stop_at_eos=False)  # warm-up
    cached_s, (cached_out, _) = timed(lambda: generate(
        model, prompt, generator=torch.Generator(device).manual_seed(0), **kw))
    row = {"size": size, "params_M": model.num_parameters() / 1e6, "tokens": tokens,
           "cached_s": cached_s, "cached_tok_s": tokens / cached_s}
    if full_recompute:
        rec_s, (rec_out, _) = timed(lambda: generate(
            model, prompt, generator=torch.Generator(device).manual_seed(0), use_cache=False, **kw))
        row["recompute_s"] = rec_s
        row["same_tokens"] = bool(torch.equal(rec_out, cached_out))
    est, _ = estimate_recompute(model, len(prompt), tokens, points, device)
    row["recompute_est_s"] = est
    rec = row.get("recompute_s", est)
    row["recompute_tok_s"] = tokens / rec
    row["speedup"] = rec / cached_s
    return row


WORDS = ("yes", "no", "up", "down")


def _variants(spec):
    """The voice as is, and 15 % slower and faster (sox tempo) on top of its own settings."""
    from textless.data.voices import parse_voice

    v = parse_voice(spec)
    out = [spec]
    for t in (0.85, 1.15):
        opts = [f"pitch={v.pitch:g}"] if v.pitch else []
        out.append(f"{v.engine}:{v.name}@" + ",".join(opts + [f"tempo={round(v.tempo * t, 3):g}"]))
    return out


def prompt_demo(workdir, k=32, seed=1):
    """Returns a dict of accuracies (train voices, held-out voices, majority baseline)."""
    from pathlib import Path

    from textless.audio import load_audio
    from textless.data.voices import TRAIN_VOICES, parse_voice, synthesize
    from textless.encoders.batch import features_of
    from textless.encoders.spectral import SpectralEncoder, mfcc_config
    from textless.quantizers.kmeans import train_kmeans
    from textless.ulm.checkpoint import load_ulm
    from textless.ulm.prompt import PromptConfig, majority_accuracy, train_prompt
    from textless.ulm.train import TrainConfig, train_ulm
    from textless.units import Units, write_units

    test_voices = ("flite:kal", "flite:awb@pitch=-2", "flite:rms@pitch=-2,tempo=1.1")
    d = Path(workdir)
    d.mkdir(parents=True, exist_ok=True)
    items = []
    for split, voices in (("train", TRAIN_VOICES), ("test", test_voices)):
        for spec in voices:
            for vs in _variants(spec):
                for c, w in enumerate(WORDS):
                    path = d / f"{split}_{parse_voice(vs).speaker}_{w}.wav"
                    if not path.exists():
                        synthesize(parse_voice(vs), path, w)
                    items.append((split, path, c))
    enc = SpectralEncoder(mfcc_config(cmvn=True))
    feats = {}
    for _, path, _ in items:
        wav, _ = load_audio(path, 16000)
        (feats[path],) = features_of(enc, [wav])  # no pipeline yet: the k-means comes from these
    frames = torch.cat([feats[p] for s, p, _ in items if s == "train"]).numpy()
    km = train_kmeans(frames, k, niter=20, seed=0)
    units = {p: Units(km.assign(feats[p]), vocab_size=k).deduplicated().units for _, p, _ in items}
    train = [(units[p], c) for s, p, c in items if s == "train"]
    test = [(units[p], c) for s, p, c in items if s == "test"]
    corpus = write_units(d / "lm.jsonl", [Units(u, vocab_size=k, id=str(i)) for i, (u, _) in enumerate(train)])
    run = d / f"lm-seed{seed}"
    if not (run / "ulm.safetensors").is_file():
        train_ulm(TrainConfig(train=str(corpus), out_dir=str(run), max_tokens=512, steps=300,
                              lr=3e-3, warmup_steps=20, save_every=300, valid_every=300,
                              valid_fraction=0.1, seed=seed),
                  UnitLMConfig.tiny(vocab_size=k, dim=64, ffn_dim=128, dropout=0.1))
    ulm = load_ulm(run / "ulm.safetensors")
    ytr, yte = [c for _, c in train], [c for _, c in test]
    result = {"train_utterances": len(train), "test_utterances": len(test),
              "majority_baseline": majority_accuracy(ytr, yte)}
    for deep in (False, True):
        cfg = PromptConfig(classes=WORDS, verbalizer=(0, 1, 2, 3), prompt_length=8, deep=deep)
        tuner, _ = train_prompt(ulm, [u for u, _ in train], ytr, cfg, steps=300, lr=0.1,
                                batch_size=16, seed=seed)
        name = "deep" if deep else "input"
        for split, data in (("train", train), ("heldout", test)):
            pred = tuner.predict([u for u, _ in data])
            result[f"{name}_{split}_acc"] = sum(p == c for p, (_, c) in zip(pred, data)) / len(data)
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--prompt-demo", metavar="DIR", help="run the prompt-tuning demo in DIR instead")
    p.add_argument("--seeds", type=int, nargs="+", default=[1], help="prompt demo seeds")
    p.add_argument("--sizes", nargs="+", default=["default", "big"], choices=list(SIZES))
    p.add_argument("--tokens", type=int, default=500)
    p.add_argument("--points", type=int, default=8, help="prefix lengths timed for the estimate")
    p.add_argument("--full-recompute", nargs="*", default=["default"],
                   help="sizes whose recompute loop is timed end to end")
    p.add_argument("--paired", action="store_true",
                   help="only the load-robust paired estimate (cached step vs full forward "
                        "timed back to back at --points prefix lengths)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.prompt_demo:
        import json

        for seed in args.seeds:
            print(json.dumps({"seed": seed, **prompt_demo(args.prompt_demo, seed=seed)}), flush=True)
        return
    print(f"torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}")
    if args.paired:
        print(f"{'size':<8} {'cached s':>9} {'recompute s':>12} {'speedup':>8}  (paired, "
              f"{args.tokens} tokens, {args.points} lengths)")
        for size in args.sizes:
            torch.manual_seed(0)
            model = UnitLM(SIZES[size]()).to(args.device).eval()
            c, r = paired(model, 21, args.tokens, args.points, args.device)
            print(f"{size:<8} {c:>9.1f} {r:>12.1f} {r / c:>7.1f}x", flush=True)
        return
    print(f"{'size':<8} {'params':>8} {'cached tok/s':>13} {'recompute tok/s':>16} "
          f"{'speedup':>8}  notes")
    for size in args.sizes:
        r = run(size, args.tokens, args.points, size in args.full_recompute, args.device)
        note = (f"recompute timed {r['recompute_s']:.1f} s (estimate {r['recompute_est_s']:.1f} s), "
                f"same tokens: {r['same_tokens']}" if "recompute_s" in r
                else f"recompute estimated {r['recompute_est_s']:.1f} s from {args.points} lengths")
        print(f"{size:<8} {r['params_M']:>7.1f}M {r['cached_tok_s']:>13.1f} "
              f"{r['recompute_tok_s']:>16.2f} {r['speedup']:>7.1f}x  cached {r['cached_s']:.1f} s; {note}",
              flush=True)


if __name__ == "__main__":
    main()
