"""``textless features``, ``textless encode``, ``textless s2st-targets``, ``textless train kmeans``."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from ..errors import TextlessError
from .flags import add_output, add_trainer_flags, check_device, check_positive

log = logging.getLogger(__name__)

INPUT_HELP = "audio files or folders (searched recursively)"


def _add_inputs(p):
    p.add_argument("audio", nargs="*", help=INPUT_HELP)
    p.add_argument("--manifest", help="TSV of inputs: 'path', 'path<TAB>speaker' or 'id<TAB>path' per "
                   "line, or a fairseq manifest (root folder, then 'relpath<TAB>n_samples')")


def _add_encoder(p, device=True):
    p.add_argument("--checkpoint", help="encoder: fairseq HuBERT/wav2vec2 .pt, Hugging Face folder, "
                   "or a textless .safetensors")
    p.add_argument("--spectral", choices=("mfcc", "logmel"), help="spectral features instead of a checkpoint")
    p.add_argument("--layer", type=int, help="transformer layer, counted from 1 (fairseq's output_layer)")
    if device:
        p.add_argument("--device", default="cpu", help="cpu, cuda (each torchrun process takes cuda:LOCAL_RANK)")
    p.add_argument("--max-batch-seconds", type=float, default=100.0,
                   help="padded seconds of audio per batch (default 100); sets peak memory")
    p.add_argument("--bf16", action="store_const", const=True, default=False,
                   help="run the encoder's matrix products in bfloat16 where that is fast: CUDA, or CPUs "
                   "with avx512_bf16/amx_bf16, about 1.5x faster (HuBERT base: 99.97%% of frame labels "
                   "as in fp32, see BENCHMARKS.md); other CPUs emulate bf16 ~40x slower: there it warns "
                   "and runs fp32")
    p.add_argument("--bf16=force", dest="bf16", action="store_const", const="force",
                   help="bfloat16 even on a CPU without native bf16")


def _add_strict(p):
    p.add_argument("--strict", action="store_true",
                   help="exit with status 2 when any input fails (default: only when all fail)")


def register(commands, groups):
    p = commands.add_parser(
        "features", help="dense features per file: OUT/<stem>.npy float32 [frames, dim]",
        description="Writes one .npy per input (the ZeroSpeech submission layout); unreadable files "
        "are listed in OUT/errors.tsv (exit status 2 when no file could be read, or with --strict "
        "when any failed). Two inputs with the same stem are refused. Under torchrun the files "
        "are shared among processes.",
    )
    _add_inputs(p)
    _add_encoder(p)
    _add_strict(p)
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=cmd_features)

    p = commands.add_parser(
        "encode", help="audio -> units (JSON Lines: id, units, durations; or fairseq id|units)",
        description="Input order is kept; ids are file stems (or those a manifest names) and must be "
        "unique. Batches group files of similar length. An unreadable file goes to OUTPUT.errors.tsv "
        "and the rest completes (exit status 2 when no file could be encoded, or with --strict when "
        "any failed). Rerunning the same command after a kill resumes from OUTPUT.partial, unless an "
        "input or the model changed. Under 'torchrun --nproc_per_node N -m textless encode ...' the "
        "inputs are sharded over processes and rank 0 writes OUTPUT.",
    )
    _add_inputs(p)
    _add_strict(p)
    p.add_argument("--model", help="pipeline bundle name or pipeline folder (default: the bundled "
                   "'default' unless --checkpoint/--spectral is given)")
    _add_encoder(p)
    p.add_argument("--kmeans", help="k-means: official km.bin or textless .safetensors (with --checkpoint)")
    p.add_argument("--no-dedup", action="store_true", help="one unit per frame (no durations)")
    p.add_argument("--format", choices=("jsonl", "fairseq"), help="default: from OUTPUT's suffix (.jsonl)")
    add_output(p, "output unit file", required=True)
    p.set_defaults(func=cmd_encode)

    p = commands.add_parser(
        "s2st-targets", help="fairseq speech_to_speech manifest with unit targets from audio pairs",
        description="PAIRS is a TSV of 'src<TAB>tgt' or 'id<TAB>src<TAB>tgt' audio paths (or with a "
        "header naming id, src_audio, tgt_audio). Writes OUT/SPLIT.tsv with columns id, src_audio, "
        "src_n_frames, tgt_audio (the unit string), tgt_n_frames, and OUT/dict.txt. Example: "
        "textless s2st-targets --model mhubert-base-vp_en_es_fr-l11-km1000 --pairs train_pairs.tsv --out s2ut --reduce",
    )
    p.add_argument("--pairs", required=True, help="TSV of source/target audio pairs")
    p.add_argument("--model", help="pipeline bundle name or pipeline folder")
    _add_encoder(p)
    p.add_argument("--kmeans", help="k-means file (with --checkpoint)")
    p.add_argument("--reduce", action="store_true", help="collapse repeated target units (fairseq --reduce-unit)")
    p.add_argument("--split", default="train", help="manifest name: OUT/SPLIT.tsv (default train)")
    p.add_argument("--out", required=True, help="output folder")
    _add_strict(p)
    p.set_defaults(func=cmd_s2st)

    p = groups["train"].add_parser(
        "kmeans", help="train k-means on encoder features of a corpus (faiss)",
        description="Features are streamed file by file; a uniform random sample of at most "
        "--max-frames frames is kept (reservoir), so memory is bounded by max_frames x dim x 4 bytes "
        "(default 200000 x 768 x 4 = 614 MB for HuBERT base) whatever the corpus size. Seeded. "
        "Writes OUT/state.pt (the pass, checkpointed every --save-every files: rerunning the same "
        "command after a kill resumes it and gives the same centroids), log.jsonl and "
        "quantizer.safetensors. k-means has no validation (no --valid-every) and runs in one process.",
    )
    _add_inputs(p)
    _add_encoder(p, device=False)
    p.add_argument("-k", "--clusters", type=int, required=True, help="number of clusters K")
    p.add_argument("--max-frames", type=int, default=200_000,
                   help="frames kept for training (memory bound: max_frames x dim x 4 bytes)")
    p.add_argument("--out", required=True, help="run folder (state.pt, log.jsonl, quantizer.safetensors)")
    add_trainer_flags(p, steps=50, save_every=100, valid_every=None, unit="k-means (Lloyd) iterations",
                      save_unit="files of the feature pass", deprecated={"--steps": ("--niter",)})
    p.set_defaults(func=cmd_train_kmeans)


# ----------------------------------------------------------------------------- helpers
def _device(name: str) -> str:
    if name.startswith("cuda") and "LOCAL_RANK" in os.environ and ":" not in name:
        return f"cuda:{int(os.environ['LOCAL_RANK'])}"
    return name


def _load_encoder(args):
    if bool(args.checkpoint) == bool(args.spectral):
        raise TextlessError("give one of --checkpoint or --spectral")
    device = _device(args.device)
    if args.spectral:
        from ..encoders.spectral import SpectralEncoder, logmel_config, mfcc_config

        return SpectralEncoder(mfcc_config() if args.spectral == "mfcc" else logmel_config()).to(device), device
    path = Path(args.checkpoint)
    if not path.exists():
        raise TextlessError(f"{path}: no such checkpoint")
    from ..encoders.fairseq_import import load_encoder

    enc = load_encoder(path, device)
    if not hasattr(enc, "features"):
        raise TextlessError(f"{path}: not an encoder checkpoint")
    return enc, device


def _check_layer(encoder, layer):
    n = getattr(encoder, "num_layers", 0)
    if layer is not None and n and not 1 <= layer <= n:
        raise TextlessError(f"--layer {layer}: the encoder has layers 1..{n}")


def _pipeline(args):
    from ..pipeline import Pipeline, load_pipeline

    explicit = args.checkpoint or args.spectral or args.kmeans
    if args.model and explicit:
        raise TextlessError("--model excludes --checkpoint/--spectral/--kmeans")
    if not explicit:
        pipeline = load_pipeline(args.model or "default", _device(args.device))
        pipeline.bf16 = args.bf16
        return pipeline
    if not args.kmeans:
        raise TextlessError("give --model, or --checkpoint (or --spectral) with --layer and --kmeans")
    if bool(args.checkpoint) == bool(args.spectral):
        raise TextlessError("give one of --checkpoint or --spectral")
    return Pipeline.from_files(args.kmeans, encoder=args.checkpoint, spectral=args.spectral,
                               layer=args.layer, device=_device(args.device), bf16=args.bf16)


def _inputs(args, unique_ids: bool = False):
    from ..corpus import collect_inputs

    return collect_inputs(args.audio, args.manifest, unique_ids=unique_ids)


def _report(summary, what: str, strict: bool = False) -> int:
    """The end of ``features``, ``encode`` and ``s2st-targets``: nothing processed (or, with
    ``strict``, anything failed) is a user error (exit 2, one line naming the errors file); some
    failures print their count on stderr and exit 0."""
    if summary is None:  # ranks > 0 of a distributed run: rank 0 reports
        return 0
    total = summary.written + summary.failed
    if summary.failed and not summary.written:
        raise TextlessError(f"none of the {total} inputs could be processed: see {summary.errors_path}")
    if summary.failed and strict:
        raise TextlessError(f"{summary.failed} of {total} inputs failed (--strict): see {summary.errors_path}")
    if summary.failed:
        print(f"textless: warning: {summary.failed} of {total} inputs failed, see {summary.errors_path}; "
              f"wrote {summary.written} {what} to {summary.out_path}", file=sys.stderr)
    else:
        log.info("wrote %d %s to %s", summary.written, what, summary.out_path)
    return 0


# ----------------------------------------------------------------------------- handlers
def cmd_features(args):
    from ..corpus import extract_features
    from ..ids import safe_file_stem

    items = _inputs(args, unique_ids=True)
    for it in items:
        safe_file_stem(it.id)
    encoder, device = _load_encoder(args)
    _check_layer(encoder, args.layer)
    if getattr(encoder, "num_layers", 0) and args.layer is None:
        raise TextlessError("--layer is required for a transformer encoder")
    summary = extract_features(encoder, items, args.out, layer=args.layer,
                               max_batch_s=args.max_batch_seconds, device=device, bf16=args.bf16)
    return _report(summary, "feature files", args.strict)


def cmd_encode(args):
    from ..corpus import encode_files
    from ..units import detect_format

    items = _inputs(args, unique_ids=True)
    pipeline = _pipeline(args)
    fmt = args.format or detect_format(args.output)
    summary = encode_files(pipeline, items, args.output, deduplicate=not args.no_dedup, format=fmt,
                           max_batch_s=args.max_batch_seconds)
    return _report(summary, "utterances", args.strict)


def cmd_s2st(args):
    from ..ids import safe_file_stem
    from ..s2st import make_unit_targets, read_pairs

    safe_file_stem(args.split)
    pairs = read_pairs(args.pairs)
    pipeline = _pipeline(args)
    summary = make_unit_targets(pairs, args.out, pipeline, reduce=args.reduce, split=args.split,
                                max_batch_s=args.max_batch_seconds)
    return _report(summary, "pairs", args.strict)


def cmd_train_kmeans(args):
    import shutil

    from ..quantizers.kmeans import KMeansTrainConfig, state_dir_for, train_kmeans_run

    if args.clusters < 2:
        raise TextlessError("-k must be at least 2")
    if args.max_frames < args.clusters:
        raise TextlessError("--max-frames must be at least -k")
    check_positive(args, "steps", "save_every")
    check_device(args.device)
    encoder, device = _load_encoder(args)
    _check_layer(encoder, args.layer)
    if getattr(encoder, "num_layers", 0) and args.layer is None:
        raise TextlessError("--layer is required for a transformer encoder")
    items = _inputs(args)
    legacy = Path(args.out).suffix == ".safetensors"  # --out FILE: the spelling before run folders
    if legacy:
        print(f"textless: warning: --out {args.out}: a .safetensors file is deprecated, --out is the "
              "run folder (OUT/quantizer.safetensors)", file=sys.stderr)
    config = KMeansTrainConfig(
        out_dir=str(state_dir_for(args.out) if legacy else args.out), clusters=args.clusters,
        layer=args.layer, max_frames=args.max_frames, steps=args.steps, save_every=args.save_every,
        seed=args.seed, bf16=args.bf16, device=device,
        encoder_name=Path(args.checkpoint).stem if args.checkpoint else args.spectral)
    km = train_kmeans_run(encoder, [it.path for it in items], config)
    if legacy:  # as before: OUT written, its state removed
        km.save(args.out)
        shutil.rmtree(config.out_dir, ignore_errors=True)
    log.info("wrote %s (K=%d, dim=%d)", args.out, km.vocab_size, km.dim)
    return 0
