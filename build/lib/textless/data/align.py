"""Forced alignment with pocketsphinx: word and phone segments, CTM files and ABX ``.item`` files.

pocketsphinx's wheel ships an en-us acoustic model (100 frames/s), the CMU dictionary
(39 ARPAbet phones without stress) and an LM. Alignment runs two passes per utterance:
``set_align_text`` + decode gives word segments, ``set_alignment`` + decode adds the phones.

Outputs of :func:`align` in ``out_dir``:

- ``words.ctm`` and ``phones.ctm``: ``utt_id 1 start_s duration_s token`` (silences are ``SIL``
  in phones.ctm and left out of words.ctm),
- ``<name>.item``: the ZeroSpeech/Libri-light ABX item file, header
  ``#file onset offset #phone prev-phone next-phone speaker`` then one line per phone (not per
  silence), times in seconds; a phone next to a pause or the utterance edge has context ``SIL``,
- ``missing_words.txt`` (only when some are): ``word<TAB>count`` for transcript words that are not
  in the dictionary; utterances containing them are not aligned, and are listed in the report.
"""

from __future__ import annotations

import logging
import math
import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..audio import load_audio
from ..errors import TextlessError
from ..files import atomic_open
from ..progress import progress
from .manifest import read_manifest, read_table, utt_id

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
FRAME_RATE = 100  # pocketsphinx en-us frames per second
SILENCE = "SIL"
PAD_S = 0.1  # silence added at both ends before aligning (seconds)
ITEM_HEADER = "#file onset offset #phone prev-phone next-phone speaker"


@dataclass
class PhoneSegment:
    phone: str
    onset: float  # seconds
    offset: float  # seconds


@dataclass
class WordSegment:
    word: str
    onset: float  # seconds
    offset: float  # seconds
    phones: list[PhoneSegment] = field(default_factory=list)


@dataclass
class AlignmentReport:
    """What :func:`align` did: counts, words missing from the dictionary, files it could not align."""

    aligned: int = 0
    phones: int = 0
    missing_words: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # utterances with missing words
    failed: list[str] = field(default_factory=list)  # the decoder found no alignment
    item_path: Path | None = None


def _pocketsphinx():
    try:
        import pocketsphinx
    except ImportError:
        raise TextlessError("alignment needs pocketsphinx: pip install 'textless[eval]'") from None
    return pocketsphinx


def model_dir() -> Path:
    """The folder of pocketsphinx's bundled en-us model files."""
    pocketsphinx = _pocketsphinx()

    return Path(pocketsphinx.get_model_path()) / "en-us"


@lru_cache(maxsize=1)
def dictionary() -> dict[str, tuple[tuple[str, ...], ...]]:
    """The CMU dictionary pocketsphinx uses: ``word -> (pronunciation, ...)``, phones upper case."""
    out: dict[str, list[tuple[str, ...]]] = {}
    with open(model_dir() / "cmudict-en-us.dict", encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) < 2:
                continue
            out.setdefault(parts[0].split("(")[0], []).append(tuple(parts[1:]))
    return {w: tuple(p) for w, p in out.items()}


def phone_set() -> set[str]:
    """The 39 phones of the dictionary (no stress marks)."""
    return {p for prons in dictionary().values() for pron in prons for p in pron}


def missing_words(text: str) -> list[str]:
    """Words of ``text`` that the dictionary does not know (in order of first appearance)."""
    d = dictionary()
    return list(dict.fromkeys(w for w in text.split() if w not in d))


def new_decoder(lm: str | os.PathLike | None = None):
    """A quiet pocketsphinx ``Decoder`` with the bundled en-us model and dictionary.

    ``lm`` is an ARPA language model file (see :func:`write_bigram_lm`); default: the bundled LM.
    """
    Decoder = _pocketsphinx().Decoder
    return Decoder(loglevel="FATAL", **({"lm": str(lm)} if lm else {}))


def write_bigram_lm(sentences: list[str], path: str | os.PathLike, discount: float = 0.5) -> Path:
    """Write an ARPA bigram LM (absolute discounting with back-off to add-one unigrams).

    An in-domain LM for :func:`recognize`, so that its WER measures the voice rather than how
    well the bundled news-text LM predicts grammar sentences.
    """


    uni: Counter = Counter()
    bi: Counter = Counter()
    for s in sentences:
        words = ["<s>"] + s.split() + ["</s>"]
        uni.update(words[1:])
        bi.update(zip(words[:-1], words[1:]))
    vocab = sorted(uni)
    total = sum(uni.values())
    p1 = {w: (uni[w] + 1) / (total + len(vocab)) for w in vocab}
    ctx: Counter = Counter()
    for (v, _), n in bi.items():
        ctx[v] += n
    p2 = {(v, w): (n - discount) / ctx[v] for (v, w), n in bi.items()}
    seen_p2: Counter = Counter()
    seen_p1: Counter = Counter()
    for (v, w), p in p2.items():
        seen_p2[v] += p
        seen_p1[v] += p1[w]
    backoff = {v: (1 - seen_p2[v]) / max(1 - seen_p1[v], 1e-9) for v in ctx}
    with atomic_open(path, "w") as f:
        f.write(f"\\data\\\nngram 1={len(vocab) + 1}\nngram 2={len(p2)}\n\n\\1-grams:\n")
        f.write(f"-99.0000\t<s>\t{math.log10(backoff['<s>']):.4f}\n")
        for w in vocab:
            bo = f"\t{math.log10(backoff[w]):.4f}" if w in backoff else ""
            f.write(f"{math.log10(p1[w]):.4f}\t{w}{bo}\n")
        f.write("\n\\2-grams:\n")
        for (v, w), p in sorted(p2.items()):
            f.write(f"{math.log10(p):.4f}\t{v} {w}\n")
        f.write("\n\\end\\\n")
    return Path(path)


def _pcm(wav: np.ndarray) -> bytes:
    return (np.clip(wav, -1.0, 1.0) * 32767).astype("<i2").tobytes()


def _decode(decoder, pcm: bytes) -> None:
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()


def recognize(wav: np.ndarray, decoder=None) -> str:
    """Transcribe ``wav: [T] float32`` at 16 kHz with the bundled LM (lower-case words).

    ``decoder`` is reused across calls when given; it must not have been used for alignment.
    """
    decoder = decoder or new_decoder()
    _decode(decoder, _pcm(wav))
    hyp = decoder.hyp()
    return " ".join(w.split("(")[0] for w in hyp.hypstr.split()) if hyp else ""


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word edit distance / number of reference words.

    >>> word_error_rate("the cat sat", "the cat sat down")
    0.3333333333333333
    """
    ref, hyp = reference.split(), hypothesis.split()
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, start=1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1] / max(len(ref), 1)


def align_utterance(wav: np.ndarray, text: str, decoder=None) -> list[WordSegment] | None:
    """Force-align ``text`` to ``wav: [T] float32`` (16 kHz); ``None`` when no alignment is found.

    Returns words (silences as ``SIL`` words) with their phones; times in seconds, clipped to the
    file's duration.
    """
    decoder = decoder or new_decoder()
    duration = wav.shape[0] / SAMPLE_RATE
    # pocketsphinx's phone pass fails when speech runs to the last frame (flite leaves almost no
    # trailing silence): pad both ends with PAD_S of silence and shift the times back
    pad = np.zeros(int(PAD_S * SAMPLE_RATE), dtype=np.float32)
    pcm = _pcm(np.concatenate([pad, wav, pad]))
    try:
        decoder.set_align_text(text)
        _decode(decoder, pcm)
        decoder.set_alignment()
        _decode(decoder, pcm)
        alignment = decoder.get_alignment()
    except (RuntimeError, ValueError) as e:
        log.debug("alignment failed: %s", e)
        return None
    if alignment is None:
        return None

    def t(frames):
        return round(min(max(frames / FRAME_RATE - PAD_S, 0.0), duration), 4)

    words = []
    for w in alignment:
        name = w.name.split("(")[0]
        if name in ("<s>", "</s>", "<sil>") or name.startswith("++"):
            name = SILENCE
        seg = WordSegment(name, t(w.start), t(w.start + w.duration))
        for p in w:
            seg.phones.append(PhoneSegment(p.name, t(p.start), t(p.start + p.duration)))
        words.append(seg)
    aligned_words = [w.word for w in words if w.word != SILENCE]
    if aligned_words != text.split():
        log.debug("alignment covers %s, expected %s", aligned_words, text.split())
        return None
    return words


def item_lines(file_id: str, speaker: str, words: list[WordSegment]) -> list[str]:
    """ABX item lines ``file onset offset phone prev next speaker`` for the phones of ``words``."""
    phones = [p for w in words for p in w.phones if p.offset > p.onset]
    lines = []
    for i, p in enumerate(phones):
        if p.phone == SILENCE:
            continue
        prev = phones[i - 1].phone if i > 0 else SILENCE
        nxt = phones[i + 1].phone if i + 1 < len(phones) else SILENCE
        lines.append(f"{file_id} {p.onset:.4f} {p.offset:.4f} {p.phone} {prev} {nxt} {speaker}")
    return lines


_WORKER: dict = {}


def _align_job(job):
    path, text = job
    decoder = _WORKER.get("decoder")
    if decoder is None:
        decoder = _WORKER["decoder"] = new_decoder()
    wav, _ = load_audio(path, SAMPLE_RATE)
    return align_utterance(wav, text, decoder)


def align(
    manifest: str | os.PathLike,
    transcripts: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    speakers: str | os.PathLike | None = None,
    item_name: str | None = None,
    workers: int = 1,
    show_progress: bool = True,
) -> AlignmentReport:
    """Force-align every manifest file to its transcript; write CTM and ``.item`` files.

    ``speakers`` (``utt_id<TAB>speaker``) defaults to ``speakers.tsv`` beside the manifest, else
    the speaker is the utterance id up to its last ``_``. ``item_name`` defaults to the manifest's
    name (``train.tsv`` -> ``train.item``; ``<corpus>/manifest.tsv`` -> ``<corpus>.item``). Words missing from the dictionary are counted in the
    report and written to ``missing_words.txt``; their utterances are skipped, not aligned.
    """
    manifest = Path(manifest)
    root, entries = read_manifest(manifest)
    texts = read_table(transcripts)
    speakers = Path(speakers) if speakers else manifest.parent / "speakers.tsv"
    spk = read_table(speakers) if speakers.is_file() else {}
    out_dir = Path(out_dir)
    report = AlignmentReport()
    missing: Counter = Counter()
    jobs, ids = [], []
    for rel, _ in entries:
        uid = utt_id(rel)
        if uid not in texts:
            raise TextlessError(f"{transcripts}: no transcript for utterance {uid!r}")
        oov = missing_words(texts[uid])
        if oov:
            missing.update(oov)
            report.skipped.append(uid)
            continue
        jobs.append((str(root / rel), texts[uid]))
        ids.append(uid)
    if not jobs:
        raise TextlessError(f"{manifest}: no utterance can be aligned (missing words: "
                            f"{', '.join(sorted(missing)) or 'none'})")
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            results = list(progress(pool.map(_align_job, jobs, chunksize=8), total=len(jobs),
                                    desc="align", unit="utt", enabled=show_progress))
    else:
        results = [_align_job(j) for j in progress(jobs, desc="align", unit="utt",
                                                  enabled=show_progress)]
    default_name = manifest.parent.name if manifest.stem == "manifest" else manifest.stem
    item_path = out_dir / f"{item_name or default_name}.item"
    with atomic_open(out_dir / "words.ctm", "w") as fw, atomic_open(out_dir / "phones.ctm", "w") as fp, \
            atomic_open(item_path, "w") as fi:
        fi.write(ITEM_HEADER + "\n")
        for uid, words in zip(ids, results):
            if words is None:
                report.failed.append(uid)
                continue
            report.aligned += 1
            for w in words:
                if w.word != SILENCE and w.offset > w.onset:
                    fw.write(f"{uid} 1 {w.onset:.4f} {w.offset - w.onset:.4f} {w.word}\n")
                for p in w.phones:
                    if p.offset > p.onset:
                        fp.write(f"{uid} 1 {p.onset:.4f} {p.offset - p.onset:.4f} {p.phone}\n")
            lines = item_lines(uid, spk.get(uid, uid.rpartition("_")[0] or uid), words)
            report.phones += len(lines)
            fi.writelines(line + "\n" for line in lines)
    report.item_path = item_path
    report.missing_words = dict(missing.most_common())
    if missing:
        with atomic_open(out_dir / "missing_words.txt", "w") as f:
            f.writelines(f"{w}\t{n}\n" for w, n in missing.most_common())
        log.warning("%d utterances skipped: %d words are not in the dictionary (see %s)",
                    len(report.skipped), len(missing), out_dir / "missing_words.txt")
    if report.failed:
        log.warning("%d utterances could not be aligned: %s", len(report.failed),
                    ", ".join(report.failed[:10]))
    return report
