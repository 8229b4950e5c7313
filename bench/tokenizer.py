"""Time tokenize + detokenize of N hours of synthetic deduplicated unit streams, or of a real
unit file with a trained tokenizer.

    python bench/tokenizer.py --hours 10 --vocab 1000
    python bench/tokenizer.py --units units.jsonl --tokenizer tok.json

Synthetic streams: 100 units, 25 deduplicated units/s (HuBERT-100's rate), 10 s utterances
drawn from a first-order Markov chain (so BPE finds frequent pairs). Prints the machine, the
unit and token counts, and the seconds of each step. Not real speech: times only.
"""

from __future__ import annotations

import argparse
import time

import torch

from textless.tokenizer import train_tokenizer
from textless.units import Units


def synthetic(hours: float, k: int = 100, rate: float = 25.0, utt_s: float = 10.0, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    trans = torch.rand(k, k, generator=g) ** 8  # peaked transitions
    trans.fill_diagonal_(0)
    n_utts, n = int(hours * 3600 / utt_s), int(rate * utt_s)
    state = torch.randint(0, k, (n_utts,), generator=g)
    cols = [state]
    for _ in range(n - 1):
        state = torch.multinomial(trans[state], 1, generator=g).squeeze(1)
        cols.append(state)
    units = torch.stack(cols, 1)
    durations = torch.randint(1, 4, units.shape, generator=g)
    return [Units(units[i], durations[i], frame_rate=50.0, vocab_size=k) for i in range(n_utts)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hours", type=float, default=10.0)
    ap.add_argument("--vocab", type=int, default=1000)
    ap.add_argument("--units", help="a unit file (deduplicated on reading) instead of synthetic streams")
    ap.add_argument("--tokenizer", help="with --units: a trained tokenizer JSON")
    a = ap.parse_args()
    if bool(a.units) != bool(a.tokenizer):
        ap.error("--units and --tokenizer go together")
    import platform

    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor() or platform.machine()) if platform.system() == "Linux" else platform.machine()
    print(f"machine: {cpu}, torch threads {torch.get_num_threads()}")
    if a.units:
        from textless.tokenizer import load_tokenizer
        from textless.units import read_units

        utts = [u.deduplicated() for u in read_units(a.units)]
        a.hours = sum(u.duration_s for u in utts) / 3600
        t0 = time.perf_counter()
        tok = load_tokenizer(a.tokenizer)
    else:
        utts = synthetic(a.hours)
        t0 = time.perf_counter()
        tok = train_tokenizer(synthetic(0.5, seed=1), a.vocab)
    t1 = time.perf_counter()
    tokens = tok.encode_batch(utts)
    t2 = time.perf_counter()
    back = [tok.decode(t) for t in tokens]
    t3 = time.perf_counter()
    exact = all(torch.equal(b.units, u.units) and torch.equal(b.durations, u.durations)
                for b, u in zip(back, utts))
    n_units, n_tok = sum(len(u) for u in utts), sum(len(t) for t in tokens)
    print(f"{a.hours:g} h: {len(utts)} utterances, {n_units} units -> {n_tok} tokens "
          f"(x{n_units / n_tok:.2f} shorter), vocab {tok.vocab_size}, round trip exact: {exact}")
    print(f"{'load' if a.units else 'train (0.5 h)'}: {t1 - t0:.2f} s  tokenize: {t2 - t1:.2f} s  "
          f"detokenize: {t3 - t2:.2f} s")


if __name__ == "__main__":
    main()
