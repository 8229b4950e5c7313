"""``textless eval``: abx, lexical, syntactic, wer, bitrate, report."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import TextlessError
from ..files import atomic_open
from .flags import add_flag, add_output


def _write_json(path, obj) -> None:
    with atomic_open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def register(commands, groups):
    g = groups["eval"]

    p = g.add_parser("abx", help="ABX error rates (ZeroSpeech triphone protocol)",
                     description="ABX error rates of frame features on a ZeroSpeech .item file. "
                     "FEATURES_DIR holds <file-id>.npy arrays (frames x dims); with --model it "
                     "holds audio files and features are computed by that pipeline.")
    p.add_argument("features_dir", metavar="FEATURES_DIR")
    p.add_argument("item_file", metavar="ITEM_FILE")
    p.add_argument("--frame-shift", type=float, default=None,
                   help="seconds between frames (required without --model; 0.02 for HuBERT)")
    add_flag(p, "--speaker-mode", deprecated=("--speaker",), choices=("within", "across", "both"),
             default="both", help="ABX within speakers, across speakers, or both (default both)")
    p.add_argument("--legacy-slicing", action="store_true",
                   help="libri-light/zrc-abx2 slicing (drops each item's last frame)")
    p.add_argument("--distance", choices=("angular", "cosine", "kl", "kl_symmetric", "euclidean"),
                   default="angular", help="frame distance (cosine = angular)")
    p.add_argument("--max-size-group", type=int, default=10, help="0: no subsampling")
    p.add_argument("--max-x-across", type=int, default=5)
    p.add_argument("--seed", type=int, default=3459)
    p.add_argument("--extension", default=".npy", choices=(".npy", ".txt", ".pt"))
    p.add_argument("--model", help="pipeline (bundle name or folder) computing the features")
    p.add_argument("--features", choices=("dense", "units"), default="dense",
                   help="with --model: encoder features or one-hot units")
    p.add_argument("--device", default="cpu",
                   help="device of the --model encoder (the ABX computation runs on the CPU)")
    add_output(p, "RESULT.json", required=True)
    p.set_defaults(func=run_abx)

    for task, what in (("lexical", "sWUGGY"), ("syntactic", "sBLIMP")):
        p = g.add_parser(task, help=f"{what} accuracy and submission file",
                         description=f"Encode and score the {what} wavs of a ZeroSpeech-layout "
                         f"dataset (DATASET/{task}/SPLIT/*.wav + gold.csv) with a unit LM, write "
                         f"OUT/{task}/SPLIT.txt and print the accuracy. With --submission, score "
                         "an existing submission file instead.")
        p.add_argument("dataset", metavar="DATASET")
        p.add_argument("--model", help="pipeline (bundle name or folder) encoding the audio")
        p.add_argument("--ulm", help="unit LM checkpoint (default: the pipeline's own LM)")
        p.add_argument("--submission", help="score this <filename> <score> file, no model")
        p.add_argument("--split", default="dev")
        p.add_argument("--normalize", action="store_true", help="score = logprob / tokens")
        p.add_argument("--device", default="cpu")
        p.add_argument("--out", default=".", help="submission folder (default: .)")
        add_output(p, "also write the accuracy here (JSON)", deprecated=("--json",))
        p.set_defaults(func=run_lm_task, task=task)

    p = g.add_parser("wer", help="ASR WER/PER of reference vs resynthesized audio",
                     description="Transcribe REFERENCE/X.wav and RESYNTH_DIR/X.wav and report "
                     "WER(reference), WER(resynthesis), their difference, and PER. REFERENCE is a "
                     "folder or a manifest (a corpus manifest.tsv brings its transcripts.tsv).")
    p.add_argument("reference_dir", metavar="REFERENCE")
    p.add_argument("resynth_dir", metavar="RESYNTH_DIR")
    p.add_argument("--transcripts", help="id<TAB>text file (default: the manifest's transcripts, "
                   "else ASR of the reference audio)")
    p.add_argument("--asr", choices=("pocketsphinx", "whisper", "wav2vec2"), default="pocketsphinx")
    p.add_argument("--asr-model", help="local checkpoint folder for whisper / wav2vec2")
    p.add_argument("--lm", help="ARPA language model for pocketsphinx (default: its bundled "
                   "news-text LM); `textless.data.align.write_bigram_lm` makes an in-domain one")
    p.add_argument("--no-phones", action="store_true", help="skip PER")
    p.add_argument("--device", default="cpu")
    add_output(p, "RESULT.json")
    p.set_defaults(func=run_wer)

    p = g.add_parser("bitrate", help="bits per second of a unit file (both conventions)")
    p.add_argument("units_file", metavar="UNITS_FILE")
    p.add_argument("--frame-rate", type=float, help="Hz, for fairseq files without metadata")
    p.add_argument("--vocab-size", type=int, help="K, for fairseq files without metadata")
    p.add_argument("--tokenizer", help="BPE tokenizer JSON: also report its tokens' rates")
    add_output(p, "RESULT.json")
    p.set_defaults(func=run_bitrate)

    p = g.add_parser("report", help="JSON + Markdown report with plots",
                     description="Evaluate a pipeline on a ZeroSpeech-layout dataset (whatever "
                     "parts it has) and/or gather existing result files into one report.")
    p.add_argument("--model", help="pipeline (bundle name or folder)")
    p.add_argument("--dataset", help="ZeroSpeech-layout folder (phonetic/, lexical/, syntactic/)")
    p.add_argument("--split", default="dev")
    p.add_argument("--abx", help="an existing `eval abx` RESULT.json")
    p.add_argument("--lexical", help="an existing `eval lexical --json` file")
    p.add_argument("--syntactic", help="an existing `eval syntactic --json` file")
    p.add_argument("--wer", help="an existing `eval wer` RESULT.json")
    p.add_argument("--units", help="a unit file (unit frequency plot and bitrate)")
    p.add_argument("--max-files", type=int, default=None, help="use at most N files per task")
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", required=True, metavar="DIR")
    p.set_defaults(func=run_report)


def run_abx(args):
    from ..eval.abx import AbxConfig, abx
    from ..eval.features import load_feature_dir, pipeline_features
    from ..eval.item import read_item_file

    if args.max_size_group < 0 or args.max_x_across < 1:
        raise TextlessError("--max-size-group must be >= 0 and --max-x-across >= 1")
    item = read_item_file(args.item_file)
    if args.model:
        from ..pipeline import load_pipeline

        pipe = load_pipeline(args.model, device=args.device)
        feats = pipeline_features(pipe, args.features_dir, args.features, only=set(item.files))
        frame_shift = args.frame_shift or 1.0 / pipe.frame_rate
    else:
        if args.frame_shift is None:
            raise TextlessError("--frame-shift SECONDS is required for a folder of features")
        feats = load_feature_dir(args.features_dir, args.extension, only=set(item.files))
        frame_shift = args.frame_shift
    config = AbxConfig(
        frame_shift_s=frame_shift,
        distance="angular" if args.distance == "cosine" else args.distance,
        speakers=("within", "across") if args.speaker_mode == "both" else (args.speaker_mode,),
        legacy_slicing=args.legacy_slicing,
        max_size_group=args.max_size_group or None,
        max_x_across=args.max_x_across,
        seed=args.seed,
    )
    result = abx(feats, item, config)
    out = result.to_json()
    out["config"] = {"frame_shift_s": frame_shift, "distance": config.distance,
                     "legacy_slicing": config.legacy_slicing,
                     "max_size_group": config.max_size_group,
                     "max_x_across": config.max_x_across, "seed": config.seed,
                     "item_file": str(args.item_file), "features": str(args.features_dir),
                     "model": args.model}
    _write_json(args.output, out)
    for mode in config.speakers:
        value = getattr(result, mode)
        print(f"ABX {mode} speaker: " + ("n/a" if value is None else f"{100 * value:.3f} %"))


def _load_lm(args, pipe):
    if args.ulm:
        from ..ulm.checkpoint import load_ulm

        return load_ulm(args.ulm, args.device)
    if pipe.ulm is None:
        raise TextlessError(f"{args.model} has no unit LM: pass --ulm CHECKPOINT")
    return pipe.ulm


def run_lm_task(args):
    from ..eval import lexical as lx

    columns = lx.LEXICAL_REQUIRED if args.task == "lexical" else lx.SYNTACTIC_REQUIRED
    accuracy = lx.lexical_accuracy if args.task == "lexical" else lx.syntactic_accuracy
    if args.submission:
        gold = lx.read_gold(lx.split_dir(args.dataset, args.task, args.split) / "gold.csv", columns)
        result = {"task": args.task, "split": args.split, "submission": args.submission,
                  **accuracy(gold, lx.read_submission(args.submission))}
    else:
        if not args.model:
            raise TextlessError("pass --model PIPELINE (and --ulm if it has no LM) or --submission")
        from ..ids import safe_file_stem

        safe_file_stem(args.split)  # names OUT/<task>/<split>.txt
        from ..pipeline import load_pipeline

        pipe = load_pipeline(args.model, device=args.device)
        lm = _load_lm(args, pipe)
        result = lx.evaluate_split(args.task, args.dataset, pipe, lm, args.out, args.split,
                                   normalize=args.normalize)
    if args.output:
        _write_json(args.output, result)
    line = f"{args.task} {args.split}: accuracy {100 * result['all']:.2f} % over {result['pairs']} pairs"
    if result.get("invocab") is not None:
        line += f", in-vocabulary {100 * result['invocab']:.2f} %"
    if result.get("invocab_empty_bands"):  # the official in-vocabulary score is NaN then
        line += (f" (frequency bands without pairs: {', '.join(result['invocab_empty_bands'])};"
                 f" the official scorer reports NaN)")
    print(line)


def run_wer(args):
    from ..eval import asr

    transcripts = asr.read_transcripts(args.transcripts) if args.transcripts else None
    utts = asr.pair_folders(args.reference_dir, args.resynth_dir, transcripts)
    backend = asr.get_backend(args.asr, args.asr_model, args.device, args.lm)
    result = asr.intelligibility(utts, backend, phones=not args.no_phones)
    if args.output:
        _write_json(args.output, result)
    print(f"WER reference {100 * result['wer_reference']:.2f} %, resynthesis "
          f"{100 * result['wer_resynthesis']:.2f} % (delta {100 * result['wer_delta']:+.2f})")
    if "per_reference" in result:
        print(f"PER reference {100 * result['per_reference']:.2f} %, resynthesis "
              f"{100 * result['per_resynthesis']:.2f} % (delta {100 * result['per_delta']:+.2f})")


def run_bitrate(args):
    from ..eval.bitrate import unit_file_bitrate

    result = unit_file_bitrate(args.units_file, frame_rate=args.frame_rate,
                               vocab_size=args.vocab_size, tokenizer=args.tokenizer)
    if args.output:
        _write_json(args.output, result)
    rows = [("units", result)] + ([("tokens", result["tokenized"])] if args.tokenizer else [])
    for name, r in rows:
        line = f"{name}: {r['tokens_per_s']:.2f} tokens/s"
        for key in ("vocab", "entropy"):
            if r.get(f"{key}_bps") is not None:
                line += f"  {key}: {r[f'{key}_bps']:.1f} bps"
        print(line)


def run_report(args):
    from ..eval.report import build_report, collect

    results = collect(
        model=args.model, dataset=args.dataset, split=args.split, device=args.device,
        files={k: getattr(args, k) for k in ("abx", "lexical", "syntactic", "wer")},
        units=args.units, max_files=args.max_files, work_dir=Path(args.out),
    )
    paths = build_report(results, args.out)
    print(f"wrote {paths['markdown']}")
