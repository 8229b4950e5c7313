"""Encode benchmark: textless HuBERT L6 + k-means 100 + dedup against the textlesslib recipe,
and textless CPC-big (GSLM's ``cpc-big-ll6k``, layer 2) against a plain reference reader.

Reference (what textlesslib does): ``transformers.HubertModel`` full forward, fp32, batch 1, then
the ``ApplyKmeans`` argmin on layer 6. textless: our encoder loaded from the same weights written
in the official fairseq layout, early exit at layer 6, optionally int8 dynamic quantization of the
Linear layers or bfloat16 autocast (``--bf16``), then the same argmin and dedup. Both run in this
process with the same thread count, so machine load affects both; the script prints ratios and
frame-label agreement.

CPC rows: random CPC-big weights (512 channels, 4 LSTM layers) in the official
``{"weights", "config"}`` layout, read by ``textless.encoders.cpc_import.load_cpc`` and by
:class:`CPCReference`, a plain transcription of GSLM's ``CpcFeatureReader`` (docs/cpc.md: five
conv + channel-norm + ReLU blocks, a 2-layer ``nn.LSTM``, the 64000-sample chunk loop with its
whole-waveform tail pass); RTF of both on the same audio, best of ``--repeats``, max |difference|.

    .venv/bin/python bench/encode.py --seconds 60 --threads 2
    .venv/bin/python bench/encode.py --memory-minutes 10   # peak RSS of a 10-minute file (subprocess)
    .venv/bin/python bench/encode.py --only cpc --seconds 1 --repeats 1   # a quick check of the CPC rows
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from machine import cpu_line

SENTENCES = [
    "the birch canoe slid on the smooth planks",
    "glue the sheet to the dark blue background",
    "it is easy to tell the depth of a well",
    "these days a chicken leg is a rare dish",
    "rice is often served in round bowls",
    "the juice of lemons makes fine punch",
    "the box was thrown beside the parked truck",
    "the hogs were fed chopped corn and garbage",
    "four hours of steady work faced us",
    "a large size in stockings is hard to sell",
]


def make_speech(seconds: float, workdir: Path) -> np.ndarray:
    """``[T]`` float32 at 16 kHz: flite sentences (voices slt, kal, awb, rms) concatenated."""
    from textless.audio import load_audio

    parts, total, i = [], 0, 0
    voices = ["slt", "kal", "awb", "rms"]
    while total < seconds * 16000:
        path = workdir / f"s{i}.wav"
        subprocess.run(["flite", "-voice", voices[i % 4], "-t", SENTENCES[i % len(SENTENCES)],
                        "-o", str(path)], check=True)
        wav, _ = load_audio(path, 16000)
        parts.append(wav)
        total += len(wav)
        i += 1
    return np.concatenate(parts)[: int(seconds * 16000)].astype(np.float32)


def hf_twin(fairseq_path, cfg):
    """transformers.HubertModel holding the raw fairseq weights (key table of
    docs/checkpoint_formats.md section 1)."""
    from transformers import HubertConfig as HFConfig
    from transformers import HubertModel

    from textless.encoders.fairseq_import import safe_torch_load

    fs = safe_torch_load(fairseq_path)["model"]
    model = HubertModel(HFConfig(
        conv_dim=[c[0] for c in cfg.conv_layers], conv_kernel=[c[1] for c in cfg.conv_layers],
        conv_stride=[c[2] for c in cfg.conv_layers], hidden_size=cfg.embed_dim,
        intermediate_size=cfg.ffn_dim, num_hidden_layers=cfg.num_layers,
        num_attention_heads=cfg.num_heads, feat_extract_norm="group", do_stable_layer_norm=False,
        conv_bias=False,
    )).eval()
    new = {}
    for hk in model.state_dict():
        k = hk
        if k == "masked_spec_embed":
            k = "mask_emb"
        elif k.startswith("feature_extractor.conv_layers."):
            k = k.replace(".conv.", ".0.").replace(".layer_norm.", ".2.")
        elif k.startswith("feature_projection.projection."):
            k = k.replace("feature_projection.projection.", "post_extract_proj.")
        elif k.startswith("feature_projection.layer_norm."):
            k = k.replace("feature_projection.layer_norm.", "layer_norm.")
        elif k.startswith("encoder.pos_conv_embed.conv."):
            k = (k.replace("encoder.pos_conv_embed.conv.", "encoder.pos_conv.0.")
                 .replace("parametrizations.weight.original0", "weight_g")
                 .replace("parametrizations.weight.original1", "weight_v"))
        elif k.startswith("encoder.layers."):
            k = (k.replace(".attention.", ".self_attn.").replace(".layer_norm.", ".self_attn_layer_norm.")
                 .replace(".feed_forward.intermediate_dense.", ".fc1.")
                 .replace(".feed_forward.output_dense.", ".fc2."))
        new[hk] = fs[k]
    model.load_state_dict(new, strict=True)
    return model


# ------------------------------------------------------------------------------------------ CPC
CPC_CONV = ((10, 5, 3), (8, 4, 2), (4, 2, 1), (4, 2, 1), (4, 2, 1))  # (kernel, stride, padding)


def cpc_official_weights(hidden: int = 512, levels: int = 4, seed: int = 0) -> dict:
    """Random CPC-big weights under CPC_audio's names (``gEncoder.*``, ``gAR.baseNet.*``)."""
    g = torch.Generator().manual_seed(seed)
    w = {}
    for i, (k, _, _) in enumerate(CPC_CONV):
        fan_in = (1 if i == 0 else hidden) * k
        w[f"gEncoder.conv{i}.weight"] = torch.randn(hidden, 1 if i == 0 else hidden, k, generator=g) / fan_in ** 0.5
        w[f"gEncoder.conv{i}.bias"] = 0.1 * torch.randn(hidden, generator=g)
        w[f"gEncoder.batchNorm{i}.weight"] = 1 + 0.1 * torch.randn(1, hidden, 1, generator=g)
        w[f"gEncoder.batchNorm{i}.bias"] = 0.1 * torch.randn(1, hidden, 1, generator=g)
    for j in range(levels):
        for name, shape in (("weight_ih", (4 * hidden, hidden)), ("weight_hh", (4 * hidden, hidden)),
                            ("bias_ih", (4 * hidden,)), ("bias_hh", (4 * hidden,))):
            w[f"gAR.baseNet.{name}_l{j}"] = torch.randn(*shape, generator=g) / hidden ** 0.5
    return w


class CPCReference:
    """GSLM's ``CpcFeatureReader.get_feats`` as docs/cpc.md describes it, written plainly."""

    def __init__(self, w: dict, layer: int = 2, max_chunk: int = 64000):
        self.w, self.max_chunk = w, max_chunk
        hidden = w["gAR.baseNet.weight_hh_l0"].shape[1]
        self.lstm = torch.nn.LSTM(w["gEncoder.conv0.weight"].shape[0], hidden, num_layers=layer, batch_first=True)
        self.lstm.load_state_dict({k[len("gAR.baseNet."):]: v for k, v in w.items()
                                   if k.startswith("gAR.baseNet.") and int(k[-1]) < layer})

    def model(self, x):  # [1, 1, T] -> [1, F, H]
        for i, (_, s, p) in enumerate(CPC_CONV):
            x = F.conv1d(x, self.w[f"gEncoder.conv{i}.weight"], self.w[f"gEncoder.conv{i}.bias"], stride=s, padding=p)
            x = (x - x.mean(1, keepdim=True)) / torch.sqrt(x.var(1, keepdim=True) + 1e-5)
            x = torch.relu(x * self.w[f"gEncoder.batchNorm{i}.weight"] + self.w[f"gEncoder.batchNorm{i}.bias"])
        return self.lstm(x.permute(0, 2, 1))[0]

    @torch.no_grad()
    def get_feats(self, wav: torch.Tensor) -> torch.Tensor:  # [T] -> [F, H]
        x = wav.view(1, 1, -1)
        size, feats, start = x.size(2), [], 0
        while start + self.max_chunk <= size:
            feats.append(self.model(x[..., start: start + self.max_chunk]))
            start += self.max_chunk
        if start < size:
            chunk = x[:, -self.max_chunk:]  # the channel axis: the whole waveform, as the reader
            out = self.model(chunk)
            delta = (size - start) // (chunk.size(2) // out.size(1))
            feats.append(out[:, -delta:])
        return torch.cat(feats, 1)[0]


def cpc_rows(wav: torch.Tensor, work: Path, repeats: int) -> list[tuple]:
    """(name, seconds, max |diff| to the reference) for the reference reader and textless CPC."""
    from textless.encoders.cpc_import import load_cpc

    w = cpc_official_weights()
    path = work / "cpc_big_random.pt"
    torch.save({"weights": w, "config": {"hiddenEncoder": 512, "hiddenGar": 512, "nLevelsGRU": 4,
                                         "arMode": "LSTM"}}, path)
    ours, ref = load_cpc(path), CPCReference(w)
    t_ref, f_ref = timed(lambda: ref.get_feats(wav[0]), repeats)
    t_ours, f_ours = timed(lambda: ours.features(wav, layer=2)[0][0], repeats)
    assert f_ours.shape == f_ref.shape, (f_ours.shape, f_ref.shape)
    return [("plain CPC reader (GSLM get_feats), fp32 (reference)", t_ref, 0.0),
            ("textless CPC, fp32", t_ours, float((f_ours - f_ref).abs().max()))]


def timed(fn, repeats: int):
    best, out = float("inf"), None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def peak_rss_mib() -> float:
    """Peak resident memory of this process (VmHWM; ru_maxrss would carry the parent's over exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_child(ckpt: str, km: str, minutes: float, int8: str, threads: int) -> dict:
    """Run in a fresh process: encode one ``minutes``-long file, report peak RSS."""
    torch.set_num_threads(threads)
    from textless.encoders.fairseq_import import load_fairseq
    from textless.quantizers.kmeans import load_quantizer
    from textless.units import dedup

    enc = load_fairseq(ckpt)
    if int8 != "fp32":
        from textless.encoders.hubert import quantize_linear_int8

        enc = quantize_linear_int8(enc)
    q = load_quantizer(km)
    before = peak_rss_mib()
    g = torch.Generator().manual_seed(0)
    wav = torch.randn(1, int(minutes * 60 * 16000), generator=g) * 0.1
    t = time.perf_counter()
    feats, n = enc.features(wav, layer=6)
    units, durations = dedup(q.assign(feats[0, : int(n)]))
    return {"minutes": minutes, "int8": int8, "seconds": time.perf_counter() - t,
            "frames": int(n), "units": int(units.numel()), "rss_after_load_mib": before,
            "peak_rss_mib": peak_rss_mib()}


def memory(args, ckpt, work):
    for int8 in ("fp32",):
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(ckpt), str(work / "km.safetensors"),
             str(args.memory_minutes), int8, str(args.threads)],
            capture_output=True, text=True, check=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{r['minutes']:g}-minute file, {r['int8']}: "
              f"{r['seconds']:.1f} s (RTF {r['seconds'] / (r['minutes'] * 60):.3f}), "
              f"peak RSS {r['peak_rss_mib']:.0f} MiB (after loading the model: "
              f"{r['rss_after_load_mib']:.0f} MiB)", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--layer", type=int, default=6)
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument("--memory-minutes", type=float, default=0.0, help="also measure peak RSS on a file this long")
    ap.add_argument("--memory-only", action="store_true", help="skip the speed table (k-means: random centres)")
    ap.add_argument("--only", choices=("hubert", "cpc"), help="run only the HuBERT or the CPC rows")
    ap.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        ckpt, km, minutes, int8, threads = args.child
        print(json.dumps(memory_child(ckpt, km, float(minutes), int8, int(threads))))
        return

    torch.set_num_threads(args.threads)
    from textless.encoders.fairseq_export import save_fairseq_checkpoint
    from textless.encoders.hubert import HubertConfig, HubertEncoder
    from textless.quantizers.kmeans import KMeansQuantizer

    work = Path(tempfile.mkdtemp(prefix="textless_bench_"))
    try:
        ckpt = work / "hubert_base_random.pt"
        if args.only != "cpc" or args.memory_only:
            torch.manual_seed(0)
            save_fairseq_checkpoint(HubertEncoder(HubertConfig()), ckpt, num_units=500)  # HuBERT base size, random
        if args.memory_only:
            KMeansQuantizer(torch.randn(args.k, 768)).save(work / "km.safetensors")
            memory(args, ckpt, work)
            return
        wav = torch.from_numpy(make_speech(args.seconds, work))[None]
        if args.only != "cpc":
            hubert_table(args, ckpt, wav, work)
        if args.only != "hubert":
            dur = wav.shape[1] / 16000
            rows = cpc_rows(wav, work, args.repeats)
            print(f"audio {dur:.1f} s of flite speech, CPC-big (random weights, official layout), layer 2, "
                  f"{args.threads} threads, best of {args.repeats}")
            print(cpu_line())
            print(f"{'variant':<55} {'seconds':>8} {'RTF':>7} {'speedup':>8} {'max |diff|':>10}")
            for name, t, diff in rows:
                print(f"{name:<55} {t:8.2f} {t / dur:7.3f} {rows[0][1] / t:7.2f}x {diff:10.1e}")
        if args.memory_minutes and args.only != "cpc":
            memory(args, ckpt, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def hubert_table(args, ckpt: Path, wav: torch.Tensor, work: Path) -> None:
    """The HuBERT rows: transformers reference, textless fp32 / int8 / bf16, label agreement."""
    from textless.encoders.batch import encoder_autocast
    from textless.encoders.fairseq_import import load_fairseq
    from textless.encoders.hubert import quantize_linear_int8
    from textless.quantizers.kmeans import train_kmeans
    from textless.units import dedup

    ours = load_fairseq(ckpt)
    ref = hf_twin(ckpt, ours.cfg)
    dur = wav.shape[1] / 16000

    def reference():
        with torch.inference_mode():
            hs = ref(wav, output_hidden_states=True).hidden_states[args.layer][0]
        return hs

    # k-means 100 fitted on the reference layer features of the benchmark audio itself
    feats_ref = reference()
    km = train_kmeans(feats_ref.numpy(), args.k, niter=20, seed=0)
    km.save(work / "km.safetensors")

    def ref_labels():
        f = reference()
        c = km.centers
        d = (f**2).sum(1, keepdim=True) - 2 * f @ c.T + (c**2).sum(1)[None]
        return d.argmin(1)

    def textless(enc, bf16=False):
        def run():
            with encoder_autocast("cpu", bf16):  # what --bf16 does
                f, n = enc.features(wav, layer=args.layer)
            f = f.float()
            labels = km.assign(f[0, : int(n)])
            dedup(labels)
            return labels
        return run

    ours_int8 = quantize_linear_int8(load_fairseq(ckpt))
    rows = []
    t_ref, lab_ref = timed(ref_labels, args.repeats)
    rows.append(("transformers full forward fp32 + argmin (reference)", t_ref, lab_ref))
    t, lab = timed(textless(ours), args.repeats)
    rows.append((f"textless fp32, exit at L{args.layer}", t, lab))
    t, lab = timed(textless(ours_int8), args.repeats)
    rows.append((f"textless int8 Linear, exit at L{args.layer}", t, lab))
    del ours_int8
    t, lab = timed(textless(ours, bf16=True), args.repeats)
    rows.append((f"textless bf16 autocast (--bf16), exit at L{args.layer}", t, lab))
    print(f"audio {dur:.1f} s of flite speech, HuBERT base (random weights, fairseq layout), "
          f"L{args.layer}, k-means {args.k}, {args.threads} threads, best of {args.repeats}")
    print(cpu_line())
    print(f"{'variant':<55} {'seconds':>8} {'RTF':>7} {'speedup':>8} {'agreement':>10}")
    for name, t, lab in rows:
        agree = float((lab == lab_ref).float().mean()) * 100
        print(f"{name:<55} {t:8.2f} {t / dur:7.3f} {t_ref / t:7.2f}x {agree:9.2f}%")
    print(f"peak RSS of this process (both models loaded): {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
