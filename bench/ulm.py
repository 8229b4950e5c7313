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


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", nargs="+", default=["default", "big"], choices=list(SIZES))
    p.add_argument("--tokens", type=int, default=500)
    p.add_argument("--points", type=int, default=8, help="prefix lengths timed for the estimate")
    p.add_argument("--full-recompute", nargs="*", default=["default"],
                   help="sizes whose recompute loop is timed end to end")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}")
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
