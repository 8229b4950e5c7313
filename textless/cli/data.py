"""``textless data synth | align | lexical | syntactic``: make speech data and evaluation sets."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import TextlessError
from ..ids import safe_file_stem


def register(commands, groups):
    data = groups["data"]
    p = data.add_parser(
        "synth", help="speak sentences with several TTS voices into a 16 kHz corpus",
        description="Writes OUT/wav/<speaker>/*.wav, manifest.tsv (fairseq), transcripts.tsv, "
        "speakers.tsv and voices.json. Resumable: files already there are kept.",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--text", type=Path, help="one sentence per line")
    src.add_argument("--generate", type=int, metavar="N",
                     help="use N sentences of the built-in grammar (seeded by --seed)")
    p.add_argument("--voices", nargs="+", default=None, metavar="VOICE",
                   help="ENGINE:NAME[@pitch=SEMITONES,tempo=FACTOR,formant=RATIO,band=HZ], e.g. flite:slt "
                   "'flite:awb@pitch=3,formant=1.1' 'flite:slt@band=4000'; or one of the sets 'train' (default), 'heldout' and "
                   "'parallel' (the speaker-invariant encoder's 31 voices)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--per-sentence", type=int, default=1, help="voices speaking each sentence")
    p.add_argument("--first-index", type=int, default=0, metavar="N",
                   help="number the utterance ids from N (keeps ids unique across corpora used "
                   "together, e.g. batches of one parallel corpus)")
    p.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    p.set_defaults(func=cmd_synth)

    p = data.add_parser(
        "align", help="force-align a corpus with pocketsphinx: CTM files and an ABX .item file",
    )
    p.add_argument("--manifest", type=Path, required=True, help="fairseq TSV manifest")
    p.add_argument("--transcripts", type=Path, default=None,
                   help="utt_id<TAB>text (default: transcripts.tsv beside the manifest)")
    p.add_argument("--speakers", type=Path, default=None,
                   help="utt_id<TAB>speaker (default: speakers.tsv beside the manifest)")
    p.add_argument("--out", type=Path, default=None,
                   help="output folder (default: align/ beside the manifest)")
    p.add_argument("--item-name", default=None, help="name of the .item file, without extension")
    p.add_argument("--workers", type=int, default=1)
    p.set_defaults(func=cmd_align)

    p = data.add_parser("lexical", help="an sWUGGY-like word / non-word set (ZeroSpeech layout)")
    p.add_argument("--out", type=Path, required=True, help="dataset root: writes lexical/SPLIT/")
    p.add_argument("--words", type=Path, default=None,
                   help="one word a line (default: the built-in grammar's vocabulary)")
    p.add_argument("--text", type=Path, default=None,
                   help="sentences counted for the frequency column (default: the built-in "
                   "grammar's first 6500 sentences, seed 0, i.e. the default training text)")
    p.add_argument("--voices", nargs="+", default=None, metavar="VOICE", help="flite voices")
    p.add_argument("--split", default="dev")
    p.add_argument("--max-words", type=int, default=None, help="keep this many words (seeded)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=None)
    p.set_defaults(func=cmd_lexical)

    p = data.add_parser("syntactic", help="an sBLIMP-like grammatical / ungrammatical set")
    p.add_argument("--out", type=Path, required=True, help="dataset root: writes syntactic/SPLIT/")
    p.add_argument("--voices", nargs="+", default=None, metavar="VOICE")
    p.add_argument("--pairs", type=int, default=20, help="pairs per phenomenon")
    p.add_argument("--split", default="dev")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=None)
    p.set_defaults(func=cmd_syntactic)


def _voices(names, default):
    from ..data.voices import HELDOUT_VOICES, PARALLEL_VOICES, TRAIN_VOICES

    sets = {"train": TRAIN_VOICES, "heldout": HELDOUT_VOICES, "parallel": PARALLEL_VOICES}
    if not names:
        return list(default)
    out = []
    for name in names:
        out.extend(sets.get(name, [name]))
    return out


def _positive(value, what):
    if value is not None and value < 1:
        raise TextlessError(f"{what} must be at least 1")


def cmd_synth(args):
    from ..data.synth import synthesize_corpus
    from ..data.text import generate_sentences, read_sentences
    from ..data.voices import TRAIN_VOICES

    _positive(args.workers, "--workers")
    _positive(args.generate, "--generate")
    sentences = read_sentences(args.text) if args.text else generate_sentences(args.generate, args.seed)
    report = synthesize_corpus(
        sentences, _voices(args.voices, TRAIN_VOICES), args.out, seed=args.seed,
        utterances_per_sentence=args.per_sentence, workers=args.workers, first_index=args.first_index,
    )
    print(f"{report.out_dir}: {report.utterances} utterances ({report.synthesized} new), "
          f"{report.duration_s / 3600:.2f} h, {len(report.speakers)} speakers")


def cmd_align(args):
    from ..data.align import align

    _positive(args.workers, "--workers")
    if args.item_name is not None:
        safe_file_stem(args.item_name)
    folder = args.manifest.parent
    report = align(
        args.manifest, args.transcripts or folder / "transcripts.tsv", args.out or folder / "align",
        speakers=args.speakers, item_name=args.item_name, workers=args.workers,
    )
    print(f"{report.item_path}: {report.aligned} utterances aligned, {report.phones} phones; "
          f"{len(report.skipped)} skipped for {len(report.missing_words)} words not in the "
          f"dictionary; {len(report.failed)} failed")
    if report.missing_words:
        print("missing words: " + json.dumps(report.missing_words))


def cmd_lexical(args):
    from ..data.lexical import LEXICAL_VOICES, build_lexical_set, sample_words
    from ..data.text import generate_sentences, read_sentences, vocabulary

    _positive(args.workers, "--workers")
    _positive(args.max_words, "--max-words")
    safe_file_stem(args.split)
    if args.words:
        if not args.words.is_file():
            raise TextlessError(f"{args.words}: no such file")
        words = [w.strip().lower() for w in args.words.read_text().split() if w.strip()]
    else:
        words = sorted(vocabulary())
    words = sample_words(words, args.max_words, args.seed)
    text = read_sentences(args.text) if args.text else generate_sentences(6500, 0)
    gold = build_lexical_set(args.out, words, voices=_voices(args.voices, LEXICAL_VOICES),
                             text=text, split=args.split, seed=args.seed, workers=args.workers)
    print(gold)


def cmd_syntactic(args):
    from ..data.syntactic import SYNTACTIC_VOICES, build_syntactic_set

    _positive(args.workers, "--workers")
    _positive(args.pairs, "--pairs")
    safe_file_stem(args.split)
    gold = build_syntactic_set(args.out, voices=_voices(args.voices, SYNTACTIC_VOICES),
                               pairs_per_subtype=args.pairs, split=args.split, seed=args.seed,
                               workers=args.workers)
    print(gold)
