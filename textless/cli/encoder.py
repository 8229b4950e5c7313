"""``textless train encoder``: a small log-mel encoder whose units do not follow the speaker."""

from __future__ import annotations

from pathlib import Path

from ..errors import TextlessError
from .flags import add_trainer_flags, check_device, check_positive


def register(commands, groups):
    p = groups["train"].add_parser(
        "encoder", help="train a log-mel encoder + unit head (speaker-invariant units)",
        description="Train a small log-mel encoder (conv front-end at the unit frame rate + "
        "transformer) and a linear head that predicts frame targets; its argmax is the unit. "
        "Training signals combine: cross-voice alignment (--canonical: a parallel corpus, targets "
        "of the canonical voice DTW-aligned onto every other voice), masked prediction "
        "(--mask-prob) and speaker perturbation (--perturb-views, --eq-db). Writes OUT/state.pt, "
        "log.jsonl, encoder.safetensors and quantizer.safetensors; rerunning the same command "
        "resumes exactly. Under torchrun every process takes --batch-size crops (DDP).",
    )
    p.add_argument("--corpus", type=Path, nargs="+", required=True, metavar="DIR",
                   help="corpus folders (manifest.tsv, transcripts.tsv, speakers.tsv: what "
                   "'textless data synth' writes)")
    p.add_argument("--targets", type=Path, required=True,
                   help="frame-level units (.jsonl, 'textless encode --no-dedup') of the "
                   "canonical voice's utterances (with --canonical) or of every utterance")
    p.add_argument("--out", type=Path, required=True, help="run folder")
    p.add_argument("--canonical", metavar="SPEAKER", default=None,
                   help="speaker id (speakers.tsv) of the canonical voice: cross-voice alignment; "
                   "without it every utterance is trained on its own targets")
    p.add_argument("--align-with", type=Path, metavar="RUN", default=None,
                   help="folder of an earlier 'textless train encoder' run: align the voices by DTW "
                   "on its unit posteriors instead of MFCCs (a second iteration; needs --canonical "
                   "and the same log-mel front-end)")
    g = p.add_argument_group("speaker perturbation and masking")
    g.add_argument("--perturb-views", type=int, default=0, metavar="N",
                   help="perturbed copies of each utterance (Praat 'Change gender': formant ratio "
                   "in [1, --max-formant] or its inverse, pitch ratio in [1, --max-pitch] or its "
                   "inverse), trained on the clean view's targets (default 0: off)")
    g.add_argument("--max-formant", type=float, default=1.4,
                   help="largest formant ratio of a perturbed view (ContentVec: 1.4)")
    g.add_argument("--max-pitch", type=float, default=2.0,
                   help="largest pitch-median ratio of a perturbed view (ContentVec: 2)")
    g.add_argument("--eq-db", type=float, default=0.0,
                   help="random equalizer: a smooth random curve of about this many dB over the "
                   "mel bands, per crop (default 0: off)")
    g.add_argument("--mask-prob", type=float, default=0.0,
                   help="masked prediction: fraction of frames starting a masked span (HuBERT: "
                   "0.8 with --mask-length 10; default 0: off)")
    g.add_argument("--mask-length", type=int, default=5, help="frames per masked span")
    g.add_argument("--unmasked-weight", type=float, default=0.0,
                   help="loss weight of unmasked frames when masking (HuBERT: 0)")
    g = p.add_argument_group("model")
    g.add_argument("--dim", type=int, default=256, help="model width")
    g.add_argument("--layers", type=int, default=4, help="transformer layers")
    g.add_argument("--heads", type=int, default=4, help="attention heads")
    g.add_argument("--ffn-dim", type=int, default=1024, help="feed-forward width")
    g.add_argument("--conv-layers", type=int, default=2, help="conv front-end layers (kernel 5)")
    g = p.add_argument_group("optimisation")
    g.add_argument("--stop-at-step", type=int, default=None, metavar="N",
                   help="end this run at step N without changing the schedule (resume later with a "
                   "larger N or without it)")
    g.add_argument("--batch-size", type=int, default=16, help="crops per step and process")
    g.add_argument("--crop-frames", type=int, default=200, help="frames per crop (50 Hz: 4 s)")
    g.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (cosine decay)")
    g.add_argument("--warmup-steps", type=int, default=200, help="linear warm-up steps")
    g.add_argument("--workers", type=int, default=None,
                   help="processes preparing the data (default: torch's thread count)")
    add_trainer_flags(p, steps=2000, save_every=100, valid_every=200,
                      unit="optimizer steps (warm-up, then cosine decay to lr/10 at N)")
    p.set_defaults(func=cmd_train_encoder)


def cmd_train_encoder(args):
    from ..encoders.logmel import LogMelEncoderConfig
    from ..encoders.train import EncoderTrainConfig, train_encoder

    check_positive(args, "steps", "batch_size", "crop_frames", "save_every", "valid_every", "dim",
                   "layers", "heads", "ffn_dim", "mask_length")
    if args.dim % args.heads:
        raise TextlessError(f"--dim {args.dim} is not a multiple of --heads {args.heads}")
    if not 0 <= args.mask_prob < 1 or args.perturb_views < 0 or args.eq_db < 0:
        raise TextlessError("--mask-prob must be in [0, 1); --perturb-views and --eq-db >= 0")
    if args.max_formant < 1 or args.max_pitch < 1:
        raise TextlessError("--max-formant and --max-pitch must be at least 1")
    for folder in args.corpus:
        if not (folder / "manifest.tsv").is_file():
            raise TextlessError(f"{folder}: not a corpus folder (no manifest.tsv)")
    if not args.targets.is_file():
        raise TextlessError(f"{args.targets}: no such unit file")
    check_device(args.device)
    model = LogMelEncoderConfig(dim=args.dim, num_layers=args.layers, num_heads=args.heads,
                                ffn_dim=args.ffn_dim, conv_layers=args.conv_layers)
    config = EncoderTrainConfig(
        corpora=tuple(str(c) for c in args.corpus), targets=str(args.targets), out_dir=str(args.out),
        canonical=args.canonical, align_with=str(args.align_with) if args.align_with else None,
        model=model, perturb_views=args.perturb_views,
        max_formant=args.max_formant, max_pitch=args.max_pitch, eq_db=args.eq_db,
        mask_prob=args.mask_prob, mask_length=args.mask_length, unmasked_weight=args.unmasked_weight,
        steps=args.steps, stop_at_step=args.stop_at_step, batch_size=args.batch_size, crop_frames=args.crop_frames, lr=args.lr,
        warmup_steps=args.warmup_steps, save_every=args.save_every, valid_every=args.valid_every,
        seed=args.seed, workers=args.workers, device=args.device,
    )
    last = train_encoder(config)
    print(f"{args.out}: step {last['step']}, loss {last.get('loss', float('nan')):.3f}, "
          f"valid frame accuracy {last.get('valid_acc', float('nan')):.3f}; "
          f"encoder.safetensors + quantizer.safetensors")
