"""GSLM Tacotron2 + WaveGlow speed next to the unit HiFi-GAN: CPU real-time factors in one run.

RTF = compute seconds / seconds of audio produced. Rows, measured interleaved (A B C ... A B C)
on the same thread count, random weights at the official sizes:

* ``unit HiFi-GAN V1-size``: ``UnitHiFiGAN.synthesize`` of 50 Hz units at 16 kHz (512 channels,
  upsampling 5-4-4-2-2; bench/vocoder.py compares it with the fairseq reference);
* ``Tacotron2``: GSLM's unit-to-speech model (NVIDIA hparams: 512-dim encoder, 1024-unit attention
  and decoder LSTMs, 80 mel bins) decoding a fixed number of mel frames (the stop gate is
  disabled so random weights decode exactly ``seconds * 22050 / 256`` frames; real models stop
  on their own), postnet included;
* ``WaveGlow``: the 256-channel standalone model (12 flows, 8 layers) on that mel, ``sigma=0.666``;
* ``denoiser``: GSLM's STFT bias removal (strength 0.1) on WaveGlow's output;
* ``GSLM vocoder, total``: ``GSLMVocoder.synthesize`` (the three above, what a ``*-tacotron``
  pipeline runs) from the same units.

    .venv/bin/python bench/tacotron.py --threads 2 --seconds 5 --repeats 3
    .venv/bin/python bench/tacotron.py --seconds 1 --repeats 1   # a quick check that it runs
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch
from machine import cpu_line

from textless.units import Units
from textless.vocoders import UnitHiFiGAN, VocoderConfig
from textless.vocoders.gslm_import import GSLMVocoder
from textless.vocoders.tacotron2 import Tacotron2, Tacotron2Config
from textless.vocoders.waveglow import WaveGlow, WaveGlowConfig

UNIT_RATE, VOCAB = 50.0, 100


def gslm_vocoder(mel_frames: int) -> GSLMVocoder:
    """Tacotron2 + WaveGlow + denoiser at the official sizes, random weights, fixed length."""
    torch.manual_seed(0)
    tacotron = Tacotron2(Tacotron2Config(n_symbols=VOCAB + 2, max_decoder_steps=mel_frames)).eval()
    with torch.no_grad():
        tacotron.decoder.gate_layer.linear_layer.bias.fill_(-50.0)  # never stop early
    waveglow = WaveGlow(WaveGlowConfig()).eval()
    with torch.no_grad():  # keep the random flows' output bounded (exp(s) of random s explodes)
        for wn in waveglow.WN:
            wn.end.weight.mul_(1e-3)
    code_dict = {"_": 0, **{str(u): u + 1 for u in range(VOCAB)}}
    hparams = {"collapse_code": True, "add_sos": False, "add_eos": False}
    return GSLMVocoder(tacotron, hparams, code_dict, waveglow, unit_frame_rate=UNIT_RATE,
                       max_decoder_steps=mel_frames).eval()


def timed(f):
    """(wall seconds, process CPU seconds, result) of ``f()``."""
    t, c = time.perf_counter(), time.process_time()
    out = f()
    return time.perf_counter() - t, time.process_time() - c, out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=5.0, help="audio length per call")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    g = torch.Generator().manual_seed(0)
    frames = int(args.seconds * UNIT_RATE)
    units = Units(torch.randint(0, VOCAB, (frames,), generator=g))
    mel_frames = int(args.seconds * 22050 / 256)
    voc = gslm_vocoder(mel_frames)
    hifigan = UnitHiFiGAN(VocoderConfig(vocab_size=VOCAB)).eval()
    tokens = voc.tokens(units)[None]

    mel = voc.tacotron.inference(tokens, max_decoder_steps=mel_frames)[1]
    audio = voc.waveglow.infer(mel, sigma=voc.sigma)
    seconds = {"unit HiFi-GAN V1-size (16 kHz)": frames * 320 / 16000,
               "Tacotron2 (units -> mel)": mel_frames * 256 / 22050,
               "WaveGlow 256 ch (mel -> 22.05 kHz)": mel_frames * 256 / 22050,
               "denoiser": mel_frames * 256 / 22050,
               "GSLM vocoder, total": mel_frames * 256 / 22050}
    runs = {
        "unit HiFi-GAN V1-size (16 kHz)": lambda: hifigan.synthesize(units),
        "Tacotron2 (units -> mel)": lambda: voc.tacotron.inference(tokens, max_decoder_steps=mel_frames),
        "WaveGlow 256 ch (mel -> 22.05 kHz)": lambda: voc.waveglow.infer(mel, sigma=voc.sigma),
        "denoiser": lambda: voc.denoiser(audio, strength=voc.denoiser_strength),
        "GSLM vocoder, total": lambda: voc.synthesize(units),
    }
    out = voc.synthesize(units)  # warm-up of every part
    hifigan.synthesize(units)
    assert out.shape == (mel_frames * 256,) and bool(torch.isfinite(out).all()), out.shape
    times = {name: {"rtf": [], "cpu": []} for name in runs}
    for _ in range(args.repeats):
        for name, f in runs.items():
            with torch.inference_mode():
                wall, cpu, _ = timed(f)
            times[name]["rtf"].append(wall / seconds[name])
            times[name]["cpu"].append(cpu / seconds[name])

    med = statistics.median
    print(f"torch {torch.__version__}, {args.threads} threads, {args.seconds:g} s of audio per call "
          f"({frames} units at 50 Hz; {mel_frames} mel frames), {args.repeats} interleaved repeats; "
          f"load average {os.getloadavg()[0]:.2f}")
    print(cpu_line())
    ref = med(times["unit HiFi-GAN V1-size (16 kHz)"]["rtf"])
    print(f"{'model':<36} {'RTF min':>8} {'RTF median':>11} {'CPU-s/audio-s':>14} {'vs HiFi-GAN':>12}")
    for name, r in times.items():
        print(f"{name:<36} {min(r['rtf']):8.3f} {med(r['rtf']):11.3f} {med(r['cpu']):14.3f} "
              f"{med(r['rtf']) / ref:11.1f}x")


if __name__ == "__main__":
    main()
