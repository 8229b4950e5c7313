"""Vocoder speed: real-time factor (RTF = compute seconds / audio seconds) on CPU threads.

Measures, in the same run and interleaved (A B A B ...), textless's ``UnitHiFiGAN.synthesize``
(weight norm folded, ``inference_mode``) and the reference: a literal transcription of
fairseq/textlesslib ``CodeGenerator`` (tests/vocoders/reference_codegen.py) loaded with the same
weights, ``remove_weight_norm()`` applied, run under ``no_grad`` as fairseq's wrapper does.
Configs: the official V1-size 16 kHz unit HiFi-GAN (512 channels, upsampling 5,4,4,2,2) and the
textless training default ``small`` (128 channels, upsampling 5,4,4,4). Prints min and median
RTF of each and the ratio reference / textless (>1: textless is faster), and the process CPU
time per audio second (on a shared machine wall-clock RTF includes waiting for other jobs;
CPU time does not, but includes the threads' spin-waiting).

    .venv/bin/python bench/vocoder.py --threads 2 --seconds 5 --repeats 5
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import time
from pathlib import Path

import torch
from machine import cpu_line

from textless.units import Units
from textless.vocoders import UnitHiFiGAN, VocoderConfig
from textless.vocoders.train import generator_config

ROOT = Path(__file__).resolve().parent.parent


def reference_module():
    spec = importlib.util.spec_from_file_location("reference_codegen", ROOT / "tests/vocoders/reference_codegen.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def official_cfg(c: VocoderConfig) -> dict:
    return {"resblock": c.resblock, "upsample_rates": list(c.upsample_rates),
            "upsample_kernel_sizes": list(c.upsample_kernel_sizes),
            "upsample_initial_channel": c.upsample_initial_channel,
            "resblock_kernel_sizes": list(c.resblock_kernel_sizes),
            "resblock_dilation_sizes": [list(d) for d in c.resblock_dilation_sizes],
            "num_embeddings": c.vocab_size, "embedding_dim": c.embedding_dim, "model_in_dim": c.model_in_dim}


def pair(config: VocoderConfig):
    """(textless vocoder, reference generator) with identical weights."""
    from textless.vocoders.checkpoint import from_official

    torch.manual_seed(0)
    cfg = official_cfg(config)
    ref = reference_module().CodeGenerator(cfg)
    ours = from_official(ref.state_dict(), cfg)
    ref.eval().remove_weight_norm()
    return ours, ref


def measure(config: VocoderConfig, seconds: float, repeats: int) -> dict:
    ours, ref = pair(config)
    frames = int(seconds * config.sample_rate / config.hop_length)
    code = torch.randint(0, config.vocab_size, (frames,))
    units = Units(code)
    audio_s = frames * config.hop_length / config.sample_rate

    def run_ours():
        return ours.synthesize(units)

    def run_ref():
        with torch.no_grad():
            return ref(code=code.view(1, -1)).detach().squeeze()

    diff = float((run_ours() - run_ref()).abs().max())  # also a warm-up of both
    times = {"textless": [], "reference": [], "textless_cpu": [], "reference_cpu": []}
    for _ in range(repeats):
        for name, f in (("textless", run_ours), ("reference", run_ref)):
            t, c = time.perf_counter(), time.process_time()
            f()
            times[name].append((time.perf_counter() - t) / audio_s)
            times[name + "_cpu"].append((time.process_time() - c) / audio_s)
    return {"audio_s": audio_s, "max_abs_diff": diff, **times}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=5.0, help="audio length per call")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    configs = {
        "V1-size 16 kHz (512 ch, 5-4-4-2-2)": VocoderConfig(vocab_size=100),
        "textless small (128 ch, 5-4-4-4)": generator_config("small", vocab_size=100, sample_rate=16000, hop_length=320),
    }
    load = os.getloadavg()
    print(f"torch {torch.__version__}, {args.threads} threads, {args.seconds:g} s of audio per call, "
          f"{args.repeats} interleaved repeats; load average before: {load[0]:.2f}")
    print(f"{cpu_line()}; oneDNN ISA cap: {os.environ.get('ONEDNN_MAX_CPU_ISA', 'none')}")
    for name, config in configs.items():
        r = measure(config, args.seconds, args.repeats)
        t, ref = r["textless"], r["reference"]
        print(f"{name}: RTF textless min {min(t):.3f} median {statistics.median(t):.3f} | reference min "
              f"{min(ref):.3f} median {statistics.median(ref):.3f} | ratio ref/textless (median) "
              f"{statistics.median(ref) / statistics.median(t):.2f} | max |diff| {r['max_abs_diff']:.1e}")
        tc, rc = r["textless_cpu"], r["reference_cpu"]
        print(f"    CPU-seconds per audio second (all threads): textless median {statistics.median(tc):.3f}, "
              f"reference median {statistics.median(rc):.3f}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
