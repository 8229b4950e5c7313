"""Vocoder speed: real-time factor (RTF = compute seconds / audio seconds) on CPU threads.

Measures, in the same run and interleaved (A B A B ...), textless's ``UnitHiFiGAN.synthesize``
(weight norm folded, ``inference_mode``) and the reference: a literal transcription of
fairseq/textlesslib ``CodeGenerator`` (references/codegen.py) loaded with the same
weights, ``remove_weight_norm()`` applied, run under ``no_grad`` as fairseq's wrapper does.
Configs: the official V1-size 16 kHz unit HiFi-GAN (512 channels, upsampling 5,4,4,2,2) and the
textless training default ``small`` (128 channels, upsampling 5,4,4,4). Prints min and median
RTF of each and the ratio reference / textless (>1: textless is faster), and the process CPU
time per audio second (on a shared machine wall-clock RTF includes waiting for other jobs;
CPU time does not, but includes the threads' spin-waiting).

Then UnitVocos against the HiFi-GANs, all in the same run (``--no-reference`` skips the part
above): inference RTF and CPU-seconds per audio second of ``synthesize`` for V1-size HiFi-GAN,
``small`` HiFi-GAN and UnitVocos ``small`` (interleaved), and training seconds per step
(``textless.vocoders.train.train_step``: discriminators + generator, adversarial, the default
``--disc-width`` 0.125; MPD + MSD for the HiFi-GANs, MPD + MRD for UnitVocos; and the mel-L1-only
warm-up step, generator alone) at equal batch and segment, interleaved; ratios HiFi-GAN /
UnitVocos (>1: UnitVocos is faster).

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
from textless.vocoders.train import TrainConfig, _GeneratorStep, build_models, generator_config, train_step
from textless.vocoders.vocos import UnitVocos, vocos_config

ROOT = Path(__file__).resolve().parent.parent


def reference_module():
    spec = importlib.util.spec_from_file_location("reference_codegen", ROOT / "references" / "codegen.py")
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


def timed(f):
    """(wall seconds, process CPU seconds) of ``f()``."""
    t, c = time.perf_counter(), time.process_time()
    f()
    return time.perf_counter() - t, time.process_time() - c


def vocos_inference(seconds: float, repeats: int) -> dict:
    """Interleaved RTF / CPU-s per audio second of ``synthesize`` for the three vocoders."""
    torch.manual_seed(0)
    models = {"V1-size HiFi-GAN": UnitHiFiGAN(VocoderConfig(vocab_size=100)).eval(),
              "small HiFi-GAN": UnitHiFiGAN(generator_config("small", vocab_size=100, sample_rate=16000,
                                                             hop_length=320)).eval(),
              "UnitVocos small": UnitVocos(vocos_config("small", vocab_size=100)).eval()}
    frames = int(seconds * 50)
    units = Units(torch.randint(0, 100, (frames,)))
    audio_s = frames * 320 / 16000
    for m in models.values():
        m.synthesize(units)  # warm-up
    out = {name: {"rtf": [], "cpu": []} for name in models}
    for _ in range(repeats):
        for name, m in models.items():
            wall, cpu = timed(lambda: m.synthesize(units))
            out[name]["rtf"].append(wall / audio_s)
            out[name]["cpu"].append(cpu / audio_s)
    return out


def training_steps(batch: int, segment: int, steps: int) -> dict:
    """Interleaved seconds per adversarial training step (D + G) at equal batch and segment."""
    from textless.vocoders.losses import LogMel, MelConfig

    setups = {"V1-size HiFi-GAN": ("hifigan", "v1"), "small HiFi-GAN": ("hifigan", "small"),
              "UnitVocos small": ("vocos", "small")}
    logmel = LogMel(MelConfig())
    g = torch.Generator().manual_seed(0)
    b = {"code": torch.randint(0, 100, (batch, segment), generator=g), "wav": 0.1 * torch.randn(batch, segment * 320, generator=g),
         "f0": None, "speaker": None}
    runs = {}
    for name, (arch, preset) in setups.items():
        cfg = TrainConfig(arch=arch, batch_size=batch, segment_frames=segment)
        vconf = generator_config(preset, vocab_size=100, sample_rate=16000, hop_length=320, arch=arch)
        torch.manual_seed(0)
        G, D = build_models(vconf, cfg)
        opt_g, opt_d = (torch.optim.AdamW(m.parameters(), cfg.lr, betas=cfg.betas) for m in (G, D))
        for adversarial, label in ((True, name), (False, name + ", mel-L1 only")):
            runs[label] = (lambda G=G, D=D, og=opt_g, od=opt_d, cfg=cfg, vconf=vconf, adv=adversarial:
                           train_step(_GeneratorStep(G), D, og, od, b, logmel, cfg, vconf, adv))
            runs[label]()  # warm-up
    out = {name: {"wall": [], "cpu": []} for name in runs}
    for _ in range(steps):
        for name, f in runs.items():
            wall, cpu = timed(f)
            out[name]["wall"].append(wall)
            out[name]["cpu"].append(cpu)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=5.0, help="audio length per call")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-reference", action="store_true", help="skip the textless/reference comparison")
    ap.add_argument("--train-batch", type=int, default=8, help="segments per training step")
    ap.add_argument("--train-segment", type=int, default=32, help="unit frames per segment (50 Hz)")
    ap.add_argument("--train-steps", type=int, default=3, help="timed training steps per model")
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
    for name, config in configs.items() if not args.no_reference else ():
        r = measure(config, args.seconds, args.repeats)
        t, ref = r["textless"], r["reference"]
        print(f"{name}: RTF textless min {min(t):.3f} median {statistics.median(t):.3f} | reference min "
              f"{min(ref):.3f} median {statistics.median(ref):.3f} | ratio ref/textless (median) "
              f"{statistics.median(ref) / statistics.median(t):.2f} | max |diff| {r['max_abs_diff']:.1e}")
        tc, rc = r["textless_cpu"], r["reference_cpu"]
        print(f"    CPU-seconds per audio second (all threads): textless median {statistics.median(tc):.3f}, "
              f"reference median {statistics.median(rc):.3f}")
    med = statistics.median
    inf = vocos_inference(args.seconds, args.repeats)
    v = inf["UnitVocos small"]
    print(f"inference, {args.seconds:g} s of audio per call, {args.repeats} interleaved repeats:")
    for name, r in inf.items():
        print(f"    {name}: RTF min {min(r['rtf']):.4f} median {med(r['rtf']):.4f} | CPU-s per audio s median "
              f"{med(r['cpu']):.4f} | ratio to UnitVocos: RTF {med(r['rtf']) / med(v['rtf']):.1f}x, "
              f"CPU {med(r['cpu']) / med(v['cpu']):.1f}x")
    tr = training_steps(args.train_batch, args.train_segment, args.train_steps)
    print(f"training step (D + G, adversarial, disc width 0.125; and mel-L1-only warm-up steps), batch {args.train_batch} x "
          f"{args.train_segment} frames ({args.train_segment * 0.02:g} s), {args.train_steps} interleaved steps:")
    for name, r in tr.items():
        v = tr["UnitVocos small" + (", mel-L1 only" if "mel-L1" in name else "")]
        print(f"    {name}: s/step min {min(r['wall']):.3f} median {med(r['wall']):.3f} | CPU-s/step median "
              f"{med(r['cpu']):.3f} | ratio to UnitVocos: wall {med(r['wall']) / med(v['wall']):.2f}x, "
              f"CPU {med(r['cpu']) / med(v['cpu']):.2f}x")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
