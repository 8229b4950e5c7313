"""``textless resynth`` and ``textless train vocoder``."""

from __future__ import annotations

import logging
from pathlib import Path

from ..errors import TextlessError
from .flags import add_flag, add_speaker, add_trainer_flags, check_device, check_positive

log = logging.getLogger(__name__)


def register(commands, groups):
    p = commands.add_parser(
        "resynth", help="audio -> units -> audio, or unit files -> audio",
        description="Resynthesize speech: encode AUDIO with --model and vocode it, or vocode a unit "
                    "file (--units) with --vocoder (a bundle name, our .safetensors, or an official "
                    "checkpoint with --vocoder-config) or with the vocoder of --model.",
    )
    p.add_argument("audio", nargs="*", help="audio files to resynthesize (with --model)")
    p.add_argument("--model", help="pipeline bundle name or pipeline folder (default: the bundled "
                   "'default', unless --vocoder is given)")
    p.add_argument("--vocoder", help="vocoder bundle name, .safetensors file, or official checkpoint")
    p.add_argument("--vocoder-config", help="config.json of an official vocoder checkpoint")
    p.add_argument("--speakers-file", help="speakers.txt of an official vocoder (names of speaker ids)")
    p.add_argument("--styles-file", help="styles.txt of an official vocoder (names of style ids)")
    p.add_argument("--units", help="unit file (.jsonl, or fairseq id|units) to vocode")
    p.add_argument("-o", "--output", help="output wav (one AUDIO)")
    p.add_argument("--out", help="output folder: <id>.wav per utterance")
    add_speaker(p, styles=True)
    p.add_argument("--device", default="cpu")
    p.set_defaults(func=resynth)

    t = groups["train"].add_parser(
        "vocoder", help="train a unit vocoder (HiFi-GAN or Vocos-style) on audio + units",
        description="Train a unit vocoder: a HiFi-GAN (--arch hifigan, the default) or a UnitVocos "
                    "(--arch vocos: frame-rate ConvNeXt backbone + inverse STFT). Writes OUT/state.pt, "
                    "log.jsonl, generator.safetensors, samples/ and train_config.json; rerunning the "
                    "same command resumes exactly (the learning rate does not depend on --steps, so a "
                    "finished run goes on with a larger one). Under torchrun, trains with "
                    "DistributedDataParallel (gloo on CPU, nccl on CUDA).",
    )
    t.add_argument("--audio", required=True,
                   help="folder of audio (searched recursively), a list file ('path[<TAB>speaker]' per "
                   "line) or a corpus manifest.tsv (speakers from the speakers.tsv beside it)")
    t.add_argument("--units", help="units JSONL from 'textless encode --no-dedup' (ids = wav file stems)")
    t.add_argument("--model", help="pipeline bundle or folder to encode the audio on the fly (instead of --units)")
    t.add_argument("--out", required=True, help="run folder (state.pt, log.jsonl, generator.safetensors, samples/)")
    t.add_argument("--arch", default="hifigan", choices=("hifigan", "vocos"),
                   help="generator architecture: hifigan (default) or vocos (UnitVocos)")
    t.add_argument("--config", default="small", help="generator: 'small', 'v1' (hifigan) / 'small', 'base' "
                   "(vocos), or a JSON file of VocoderConfig / VocosConfig fields")
    t.add_argument("--batch-size", type=int, default=8, help="segments per step (per process under DDP)")
    t.add_argument("--segment-frames", type=int, default=32, help="unit frames per training segment")
    t.add_argument("--lr", type=float, default=2e-4)
    t.add_argument("--snapshot-every", type=int, default=0,
                   help="also keep OUT/snapshots/step_<N>.safetensors every N steps (a multiple of "
                   "--save-every; for training curves)")
    add_flag(t, "--valid-utterances", deprecated=("--valid",), type=int, default=2, metavar="N",
             help="utterances held out for validation mel-L1 and samples (default %(default)s)")
    t.add_argument("--f0", action="store_true", help="condition on F0 (pyworld), normalised per speaker")
    t.add_argument("--speakers", action="store_true", help="learn a speaker embedding (speaker column of --audio)")
    t.add_argument("--duration-predictor", action="store_true", help="train a duration predictor for deduplicated units")
    t.add_argument("--disc-width", type=float, default=0.125,
                   help="discriminator channel multiplier (1 = HiFi-GAN; the default 0.125 suits CPUs)")
    t.add_argument("--disc-start", type=int, default=0,
                   help="train on mel-L1 alone before this step (the discriminators are not run: a cheap warm-up); "
                        "may change when a run resumes")
    t.add_argument("--init", metavar="GENERATOR",
                   help="start from this generator (.safetensors, e.g. a bundle's vocoder) instead of random "
                        "weights: fine-tuning on new units of the same voice; its config must equal the one "
                        "--config and the data give")
    add_trainer_flags(t, steps=10000, save_every=500, valid_every=500,
                      deprecated={"--save-every": ("--checkpoint-every",)})
    t.set_defaults(func=train)


def _load_vocoder(args):
    from ..vocoders.checkpoint import load_vocoder

    path = Path(args.vocoder)
    if path.is_file():
        return load_vocoder(path, args.vocoder_config, speakers=args.speakers_file, styles=args.styles_file,
                            device=args.device)
    if args.vocoder_config:
        raise TextlessError(f"{path}: no such vocoder checkpoint")
    from ..hub import get_bundle

    bundle = get_bundle(args.vocoder)
    if bundle.role != "vocoder":
        raise TextlessError(f"{args.vocoder} is a {bundle.role}, not a vocoder")
    return bundle.get_model(args.device)


def resynth(args):
    from ..audio import write_audio
    from ..vocoders.resynth import resynthesize_file, vocode_units

    if args.units:
        if args.audio:
            raise TextlessError("give either AUDIO files or --units, not both")
        if not args.out:
            raise TextlessError("--units needs --out DIR (one <id>.wav per utterance)")
        if args.vocoder and args.model:
            raise TextlessError("--units takes --vocoder or --model, not both")
        if args.vocoder:
            vocoder = _load_vocoder(args)
        else:
            from ..pipeline import load_pipeline

            vocoder = load_pipeline(args.model or "default", args.device).vocoder
            if vocoder is None:
                raise TextlessError(f"{args.model or 'default'} has no vocoder")
        paths = vocode_units(vocoder, args.units, args.out, speaker=args.speaker, style=args.style)
        log.info("wrote %d wavs to %s", len(paths), args.out)
        return 0
    if not args.audio:
        raise TextlessError("nothing to resynthesize: give AUDIO files (with --model) or --units FILE")
    if args.vocoder or args.vocoder_config:
        raise TextlessError("--vocoder applies to --units; from audio the vocoder of --model is used")
    if len(args.audio) == 1 and args.output:
        outputs = [Path(args.output)]
    elif args.out:
        from ..data.manifest import ManifestItem, check_unique_ids
        from ..ids import safe_file_stem

        check_unique_ids([ManifestItem(Path(a).stem, Path(a)) for a in args.audio])
        outputs = [Path(args.out) / f"{safe_file_stem(Path(a).stem)}.wav" for a in args.audio]
    else:
        raise TextlessError("give -o OUT.wav for one file, or --out DIR")
    from ..pipeline import load_pipeline

    pipeline = load_pipeline(args.model or "default", args.device)
    for audio, out in zip(args.audio, outputs):
        wav = resynthesize_file(pipeline, audio, speaker=args.speaker, style=args.style)
        write_audio(out, wav, pipeline.vocoder.sample_rate)
    return 0


def train(args):
    from ..vocoders.train import TrainConfig, train_vocoder

    if bool(args.units) == bool(args.model):
        raise TextlessError("give exactly one of --units (a JSONL of undeduplicated units) or --model")
    check_positive(args, "steps", "save_every", "valid_every", "batch_size", "segment_frames")
    check_device(args.device)
    if args.snapshot_every and args.snapshot_every % args.save_every:
        raise TextlessError("--snapshot-every must be a multiple of --save-every")
    cfg = TrainConfig(
        steps=args.steps, batch_size=args.batch_size, segment_frames=args.segment_frames, lr=args.lr,
        save_every=args.save_every, valid_every=args.valid_every, snapshot_every=args.snapshot_every,
        valid_utterances=args.valid_utterances, f0=args.f0,
        speakers=args.speakers, duration_predictor=args.duration_predictor, disc_width=args.disc_width,
        disc_start=args.disc_start, seed=args.seed, arch=args.arch, device=args.device,
    )
    model = None
    if args.model:
        from ..distributed import init_distributed
        from ..pipeline import load_pipeline

        model = load_pipeline(args.model, init_distributed(args.device)[2])  # encodes on --device
    train_vocoder(args.audio, args.out, cfg, units=args.units, model=model, generator=args.config, init=args.init)
    return 0
