"""``textless continue``, ``textless score``, ``textless train ulm``, ``textless train prompt``."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import TextlessError
from .flags import add_output, add_speaker, add_trainer_flags, check_device, check_positive

SIZES = ("tiny", "default", "big")


def register(commands, groups):
    p = commands.add_parser(
        "continue", help="sample continuations of a spoken prompt (audio or units) with a unit LM",
        description="Prompts are audio files (encoded with --model, deduplicated as in GSLM) or "
        "a unit file (--units). With a vocoder in the --model pipeline, continuations are "
        "written as wav files too; units are always written to OUT/continuations.jsonl.",
    )
    p.add_argument("audio", nargs="*", help="prompt audio files")
    p.add_argument("--model", help="pipeline bundle name or folder (encoder, quantizer, [ulm], [vocoder]); "
                   "default: the bundled 'default', unless --units and --ulm are given")
    p.add_argument("--units", help="prompt unit file (.jsonl or fairseq id|units)")
    p.add_argument("--ulm", help="unit LM: .safetensors, a GSLM folder (checkpoint_best.pt + dict.txt) or its .tgz")
    p.add_argument("--tokenizer", help="BPE tokenizer JSON the --ulm was trained on "
                   "(textless train tokenizer); continuations are decoded back to units")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--num-samples", type=int, default=1)
    length = p.add_mutually_exclusive_group()
    length.add_argument("--duration", type=float, help="length of each continuation in seconds")
    length.add_argument("--max-new-tokens", type=int,
                        help="units (LM tokens with a tokenizer) per continuation (default 250)")
    p.add_argument("--temperature", type=float, default=0.7)
    p.add_argument("--top-k", type=int, default=0, help="0: no top-k filter")
    p.add_argument("--top-p", type=float, default=1.0)
    p.add_argument("--seed", type=int)
    p.add_argument("--no-eos", action="store_true", help="never stop early at end-of-sequence")
    add_speaker(p)
    p.add_argument("--device", default="cpu")
    p.set_defaults(func=cmd_continue)

    p = commands.add_parser(
        "score", help="log-probability of unit sequences under a unit LM (fairseq's convention)",
        description="For each utterance: logprob = sum of natural-log probabilities of every "
        "unit and the closing end-of-sequence, from the opening symbol; num_tokens = units + 1.",
    )
    p.add_argument("--ulm", required=True, help=".safetensors, a GSLM folder or its .tgz")
    p.add_argument("--units", required=True, help="unit file (.jsonl or fairseq id|units)")
    p.add_argument("--tokenizer", help="BPE tokenizer JSON the --ulm was trained on: scores its "
                   "tokens of the deduplicated units (num_tokens = tokens + 1)")
    add_output(p, "output JSON Lines: id, logprob, num_tokens", required=True)
    p.add_argument("--deduplicate", action="store_true", help="collapse repeated units first")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--device", default="cpu")
    p.set_defaults(func=cmd_score)

    train = groups["train"]
    p = train.add_parser(
        "ulm", help="train a unit LM on a JSON Lines unit corpus (resumes when OUT has a checkpoint)",
        description="Writes OUT/state.pt, log.jsonl, ulm.safetensors and ulm_best.safetensors "
        "(best validation perplexity). Run the same command again in the same --out to resume "
        "after a kill. Under torchrun each process trains on its share of every step (DDP).",
    )
    p.add_argument("--units", required=True, help="training unit corpus (.jsonl)")
    p.add_argument("--valid", help="validation corpus (default: --valid-fraction held out)")
    p.add_argument("--valid-fraction", type=float, default=0.05)
    p.add_argument("--out", required=True, help="run folder")
    p.add_argument("--size", choices=SIZES, default="default",
                   help="tiny (2x32), default (6x512), big (GSLM 12x1024)")
    p.add_argument("--layers", type=int)
    p.add_argument("--dim", type=int)
    p.add_argument("--heads", type=int)
    p.add_argument("--ffn-dim", type=int)
    p.add_argument("--dropout", type=float)
    p.add_argument("--max-positions", type=int)
    p.add_argument("--vocab-size", type=int, help="default: from the corpus")
    p.add_argument("--no-dedup", action="store_true", help="train on frame-level units")
    p.add_argument("--tokenizer", help="BPE tokenizer JSON (textless train tokenizer): train on "
                   "its tokens; copied to OUT/tokenizer.json")
    p.add_argument("--max-tokens", type=int, default=4096, help="padded tokens per batch per process")
    p.add_argument("--update-freq", type=int, default=1)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--warmup-steps", type=int, default=100)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--clip-norm", type=float, default=1.0)
    p.add_argument("--stop-at-step", type=int, help="end this run early (the schedule is unchanged)")
    add_trainer_flags(p, steps=1000, save_every=100, valid_every=100, seed=1,
                      unit="optimizer steps (warm-up, then cosine decay to lr/10 at N)",
                      deprecated={"--steps": ("--max-steps",)})
    p.set_defaults(func=cmd_train_ulm)

    p = train.add_parser(
        "prompt", help="prompt-tune a frozen unit LM for spoken classification (SpeechPrompt)",
        description="Units (.jsonl) with a labels file (id<TAB>label); the verbalizer maps class "
        "i (sorted names) to unit i. Writes OUT/state.pt, log.jsonl, prompt.safetensors and, at "
        "the end, metrics.json (accuracy, and on --valid-units also the majority-class baseline). "
        "Rerunning the same command resumes; the learning rate is constant, so --steps may grow.",
    )
    p.add_argument("--ulm", required=True)
    p.add_argument("--units", required=True, help="training units (.jsonl)")
    p.add_argument("--labels", required=True, help="TSV: utterance id, label")
    p.add_argument("--valid-units", help="held-out units (.jsonl) to report accuracy on")
    p.add_argument("--out", required=True)
    p.add_argument("--prompt-length", type=int, default=8)
    p.add_argument("--deep", action="store_true", help="deep prompts at every layer too")
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--batch-size", type=int, default=16, help="utterances per step (per process)")
    add_trainer_flags(p, steps=200, save_every=100, valid_every=100, seed=1)
    p.set_defaults(func=cmd_train_prompt)


# -------------------------------------------------------------------------------- continue
def cmd_continue(args):
    from dataclasses import replace

    from ..audio import write_audio
    from ..ids import safe_file_stem
    from ..units import read_units, write_units
    from ..ulm.checkpoint import load_ulm

    if bool(args.audio) == bool(args.units):
        raise TextlessError("give prompt audio files or --units FILE (one of them)")
    pipeline = None
    if args.model or args.audio or not args.ulm:
        from ..pipeline import load_pipeline

        pipeline = load_pipeline(args.model or "default", args.device)
    from ..ulm.tokenized import with_tokenizer

    if args.tokenizer and not args.ulm:
        raise TextlessError("--tokenizer goes with --ulm (a pipeline folder names its own)")
    ulm = with_tokenizer(load_ulm(args.ulm, args.device), args.tokenizer) if args.ulm else None
    if pipeline is not None:
        if ulm is not None:  # the pipeline checks that the unit LM fits its quantizer
            pipeline = replace(pipeline, ulm=ulm)
        elif pipeline.ulm is None:
            raise TextlessError("no unit LM: give --ulm PATH (or a --model pipeline that has one)")
    if args.audio:  # ids are file stems
        prompts = [(a, Path(a).stem) for a in args.audio]
    else:
        prompts = [(u, u.id or f"prompt{i}") for i, u in enumerate(read_units(args.units))]
    length = ({"duration_s": args.duration} if args.duration is not None
              else {"max_new_tokens": args.max_new_tokens or 250})
    out = Path(args.out)
    writes_wavs = pipeline is not None and pipeline.vocoder is not None
    if writes_wavs:  # OUT/<id>-<n>.wav: refuse ids that are not plain file names before sampling
        for _, id in prompts:
            safe_file_stem(id)
    sampling = dict(num_samples=args.num_samples, temperature=args.temperature, top_k=args.top_k,
                    top_p=args.top_p, stop_at_eos=not args.no_eos, **length)
    results, wavs = [], []
    for i, (prompt, id) in enumerate(prompts):
        seed = None if args.seed is None else args.seed + i
        if pipeline is None:  # --units with --ulm: no pipeline, so nothing to vocode
            from ..ulm.sample import continue_units

            results += continue_units(ulm, replace(prompt, id=id), seed=seed, **sampling)
            continue
        if args.audio:
            prompt = pipeline.load(prompt)
        r = pipeline.continue_speech(prompt, id=id, seed=seed, speaker=args.speaker,
                                     vocode_prompt=False, **sampling)
        results += r.continuations
        wavs += r.continuation_wavs or []
    write_units(out / "continuations.jsonl", results)
    print(f"{len(results)} continuations -> {out / 'continuations.jsonl'}")
    if writes_wavs:
        for u, wav in zip(results, wavs):
            write_audio(out / f"{safe_file_stem(u.id)}.wav", wav, pipeline.vocoder.sample_rate)
        print(f"{len(wavs)} wav files -> {out}")


# -------------------------------------------------------------------------------- score
def cmd_score(args):
    from ..files import atomic_open
    from ..units import read_units
    from ..ulm.checkpoint import load_ulm
    from ..ulm.score import score_units

    from ..ulm.tokenized import with_tokenizer

    model = with_tokenizer(load_ulm(args.ulm, args.device), args.tokenizer)
    utts = read_units(args.units)
    if args.deduplicate:
        utts = [u.deduplicated() for u in utts]
    rows = score_units(model, utts, batch_size=args.batch_size)
    with atomic_open(args.output, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    print(f"scored {len(rows)} utterances -> {args.output}")


# -------------------------------------------------------------------------------- train ulm
def cmd_train_ulm(args):
    import dataclasses

    from ..ulm.data import load_sequences
    from ..ulm.model import UnitLMConfig
    from ..trainer import state_path
    from ..ulm.train import LEGACY_STATE_FILES, TrainConfig, train_ulm

    check_positive(args, "steps", "save_every", "valid_every", "max_tokens", "update_freq")
    check_device(args.device)
    config = TrainConfig(
        train=args.units, out_dir=args.out, valid=args.valid, valid_fraction=args.valid_fraction,
        deduplicate=not args.no_dedup, max_tokens=args.max_tokens, update_freq=args.update_freq,
        steps=args.steps, lr=args.lr, warmup_steps=args.warmup_steps,
        weight_decay=args.weight_decay, clip_norm=args.clip_norm, save_every=args.save_every,
        valid_every=args.valid_every, seed=args.seed, stop_at_step=args.stop_at_step,
        device=args.device, tokenizer=args.tokenizer,
    )
    model_config = None
    if state_path(args.out, LEGACY_STATE_FILES) is None:
        vocab = args.vocab_size
        if vocab is None:
            seqs, vocab, _ = load_sequences(args.units, not args.no_dedup, args.tokenizer)
            vocab = vocab or int(max(int(s.max()) for s in seqs if len(s))) + 1
        make = {"tiny": UnitLMConfig.tiny, "default": UnitLMConfig, "big": UnitLMConfig.gslm_big}
        over = {k: v for k, v in dict(
            num_layers=args.layers, dim=args.dim, num_heads=args.heads, ffn_dim=args.ffn_dim,
            dropout=args.dropout, max_positions=args.max_positions).items() if v is not None}
        try:
            base = make[args.size](vocab_size=vocab)
            model_config = dataclasses.replace(base, **over)
        except ValueError as e:
            raise TextlessError(str(e)) from None
    result = train_ulm(config, model_config)
    if int(os.environ.get("RANK", "0")) == 0:
        ppl, loss = result["valid_ppl"], result["loss"]
        print(f"step {result['step']}"
              + (f"  loss {loss:.4f} nats/token" if loss is not None else "  (nothing left to train)")
              + (f"  valid ppl {ppl:.3f}" if ppl is not None else "")
              + f"  -> {Path(args.out) / 'ulm.safetensors'}")


# -------------------------------------------------------------------------------- train prompt
def cmd_train_prompt(args):
    from ..ulm.prompt import PromptTrainConfig, train_prompt_from_files

    check_positive(args, "steps", "save_every", "valid_every", "batch_size", "prompt_length")
    check_device(args.device)
    metrics = train_prompt_from_files(PromptTrainConfig(
        ulm=args.ulm, units=args.units, labels=args.labels, valid_units=args.valid_units,
        out_dir=args.out, prompt_length=args.prompt_length, deep=args.deep, steps=args.steps,
        lr=args.lr, batch_size=args.batch_size, save_every=args.save_every,
        valid_every=args.valid_every, seed=args.seed, device=args.device,
    ))
    print(json.dumps(metrics))
