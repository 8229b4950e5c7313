"""ASR-based intelligibility: WER and PER of reference and resynthesized speech.

A backend has ``sample_rate`` (Hz) and ``transcribe(wav: [T] float32) -> str`` (lower-case
words); backends that can decode phones also have ``phones(wav) -> list[str]`` (ARPAbet, no
stress, silences dropped).

* :class:`PocketSphinx` (default, offline): the en-us model, dictionary and LM shipped in the
  ``pocketsphinx`` wheel; phone decoding with its phone LM (allphone mode).
* :class:`Whisper`: a local Hugging Face Whisper checkpoint folder (``transformers``), e.g.
  ``openai/whisper-small`` saved with ``save_pretrained``.
* :class:`Wav2Vec2CTC`: a local ``Wav2Vec2ForCTC`` checkpoint folder with its processor
  (greedy CTC decoding), e.g. ``facebook/wav2vec2-base-960h``.

The Whisper and wav2vec2 adapters need the user's own downloaded checkpoints. Here only
pocketsphinx is tested for recognition quality; the wav2vec2 adapter is tested for plumbing on
a tiny random-weight model, the Whisper adapter not at all.

WER is corpus-level (``jiwer``: total edits / total reference words) after normalising text
(lower case, punctuation removed). PER compares the phone decoding of each audio with the
reference phones: the CMU-dictionary pronunciation of the reference transcript when every word
is in the dictionary, otherwise the phone decoding of the reference audio.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Protocol, Sequence

import numpy as np

from ..audio import load_audio
from ..errors import TextlessError
from ..progress import progress

log = logging.getLogger(__name__)

BACKENDS = ("pocketsphinx", "whisper", "wav2vec2")


class AsrBackend(Protocol):
    sample_rate: int

    def transcribe(self, wav: np.ndarray) -> str: ...


def normalize_text(text: str) -> str:
    """Lower case, apostrophes kept, other punctuation removed, spaces collapsed.

    >>> normalize_text("The cat, sat -- on THE mat!")
    'the cat sat on the mat'
    """
    text = re.sub(r"[^a-z0-9' ]+", " ", text.lower())
    return " ".join(text.split())


def _pcm(wav: np.ndarray) -> bytes:
    return (np.clip(np.asarray(wav, dtype=np.float32), -1.0, 1.0) * 32767).astype("<i2").tobytes()


class PocketSphinx:
    """pocketsphinx en-us (16 kHz) with its bundled model: words and phone decoding.

    ``lm``: an ARPA language model to decode words with instead of the bundled news-text LM
    (e.g. an in-domain one from :func:`textless.data.align.write_bigram_lm`)."""

    sample_rate = 16000

    def __init__(self, lm: str | os.PathLike | None = None):
        from pocketsphinx import Decoder, get_model_path

        self._model = Path(get_model_path()) / "en-us"
        if lm is not None and not Path(lm).is_file():
            raise TextlessError(f"{lm}: no such language model file")
        self._words = Decoder(loglevel="FATAL", **({"lm": str(lm)} if lm is not None else {}))
        self._phones = None
        self._Decoder = Decoder

    def _run(self, decoder, wav: np.ndarray) -> None:
        # reset the feature front end (CMN, noise estimates) so that every utterance is decoded
        # independently of the previous ones: the same audio always gives the same result
        decoder.reinit_feat()
        decoder.start_utt()
        decoder.process_raw(_pcm(wav), full_utt=True)
        decoder.end_utt()

    def transcribe(self, wav: np.ndarray) -> str:
        """``wav: [T] float32`` at 16 kHz -> lower-case words ('' when nothing is recognised)."""
        self._run(self._words, wav)
        hyp = self._words.hyp()
        return normalize_text(" ".join(w.split("(")[0] for w in hyp.hypstr.split())) if hyp else ""

    def phones(self, wav: np.ndarray) -> list[str]:
        """Phone decoding (allphone mode with the phone LM) -> ARPAbet phones, silences dropped."""
        if self._phones is None:
            self._phones = self._Decoder(
                loglevel="FATAL", allphone=str(self._model / "en-us-phone.lm.bin"), lm=None,
                lw=2.0, beam=1e-20, pbeam=1e-20,
            )
        self._run(self._phones, wav)
        return [s.word for s in self._phones.seg() if s.word not in ("SIL", "<sil>", "(NULL)")
                and not s.word.startswith("+")]

    def pronounce(self, text: str) -> list[str] | None:
        """Phones of ``text`` from the CMU dictionary (first pronunciation); ``None`` if a word
        is unknown."""
        d = _cmudict(str(self._model / "cmudict-en-us.dict"))
        out: list[str] = []
        for w in normalize_text(text).split():
            if w not in d:
                return None
            out.extend(d[w])
        return out


@functools.lru_cache(maxsize=2)
def _cmudict(path: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if parts and "(" not in parts[0]:
                out.setdefault(parts[0].lower(), [re.sub(r"\d", "", p).upper() for p in parts[1:]])
    return out


class Whisper:
    """Whisper from a local transformers checkpoint folder (16 kHz input). Not tested here."""

    sample_rate = 16000

    def __init__(self, model_dir: str | os.PathLike, device: str = "cpu", language: str = "en"):
        from transformers import WhisperForConditionalGeneration, WhisperProcessor

        self.processor = WhisperProcessor.from_pretrained(model_dir)
        self.model = WhisperForConditionalGeneration.from_pretrained(model_dir).to(device).eval()
        self.device, self.language = device, language

    def transcribe(self, wav: np.ndarray) -> str:
        import torch

        inputs = self.processor(wav, sampling_rate=self.sample_rate, return_tensors="pt")
        with torch.inference_mode():
            ids = self.model.generate(inputs.input_features.to(self.device), language=self.language,
                                      task="transcribe")
        return normalize_text(self.processor.batch_decode(ids, skip_special_tokens=True)[0])


class Wav2Vec2CTC:
    """Greedy CTC decoding with a local ``Wav2Vec2ForCTC`` folder (16 kHz).

    Tested here only for plumbing on a tiny random-weight model (no real checkpoint offline)."""

    sample_rate = 16000

    def __init__(self, model_dir: str | os.PathLike, device: str = "cpu"):
        from transformers import Wav2Vec2ForCTC, Wav2Vec2Processor

        self.processor = Wav2Vec2Processor.from_pretrained(model_dir)
        self.model = Wav2Vec2ForCTC.from_pretrained(model_dir).to(device).eval()
        self.device = device

    def transcribe(self, wav: np.ndarray) -> str:
        import torch

        inputs = self.processor(wav, sampling_rate=self.sample_rate, return_tensors="pt")
        with torch.inference_mode():
            logits = self.model(inputs.input_values.to(self.device)).logits
        ids = logits.argmax(-1)
        # grouping and blank removal happen in decode; drop other special tokens (<s>, <unk>)
        return normalize_text(re.sub(r"<[^>]*>", " ", self.processor.batch_decode(ids)[0]))


def get_backend(name: str = "pocketsphinx", model_dir: str | None = None, device: str = "cpu",
                lm: str | None = None):
    """Build an ASR backend by name (``pocketsphinx``, ``whisper``, ``wav2vec2``); ``lm``: an
    ARPA LM for pocketsphinx."""
    if lm is not None and name != "pocketsphinx":
        raise TextlessError("--lm applies to --asr pocketsphinx only")
    if name == "pocketsphinx":
        return PocketSphinx(lm)
    if name in ("whisper", "wav2vec2"):
        if not model_dir or not Path(model_dir).is_dir():
            raise TextlessError(f"--asr {name} needs --asr-model DIR, a local checkpoint folder")
        return (Whisper if name == "whisper" else Wav2Vec2CTC)(model_dir, device=device)
    raise TextlessError(f"unknown ASR backend {name!r}: use one of {BACKENDS}")


# ------------------------------------------------------------------------------- scoring
def error_rate(references: Sequence[Sequence[str]], hypotheses: Sequence[Sequence[str]]) -> float:
    """Corpus error rate of token sequences (total edits / total reference tokens), with jiwer.

    >>> error_rate([["the", "cat"]], [["the", "hat", "sat"]])
    1.0
    """
    import jiwer

    pairs = [(" ".join(r), " ".join(h)) for r, h in zip(references, hypotheses) if r]
    if not pairs:
        raise TextlessError("no reference with at least one token")
    return float(jiwer.wer([r for r, _ in pairs], [h for _, h in pairs]))


@dataclass
class Utterance:
    """One evaluated pair: ``id``, reference audio, resynthesized audio (paths), transcript."""

    id: str
    reference: Path
    resynthesis: Path
    text: str | None = None


def intelligibility(
    utterances: Sequence[Utterance], backend=None, phones: bool = True
) -> dict:
    """WER and PER of reference and resynthesized audio.

    Reference text: ``utterance.text`` when given, else the ASR transcript of the reference
    audio (then WER(reference) is 0 by construction and WER(resynthesis) measures agreement).
    Returns fractions: ``wer_reference``, ``wer_resynthesis``, ``wer_delta`` (resynthesis -
    reference), and with phones ``per_reference``, ``per_resynthesis``, ``per_delta``; plus
    per-utterance transcripts under ``utterances``.
    """
    backend = backend or PocketSphinx()
    do_phones = phones and hasattr(backend, "phones")
    rows = []
    for u in progress(utterances, desc="ASR", unit="utt"):
        ref_wav, _ = load_audio(u.reference, backend.sample_rate)
        syn_wav, _ = load_audio(u.resynthesis, backend.sample_rate)
        row = {"id": u.id, "hyp_reference": backend.transcribe(ref_wav),
               "hyp_resynthesis": backend.transcribe(syn_wav)}
        row["text"] = normalize_text(u.text) if u.text else row["hyp_reference"]
        if do_phones:
            ref_phones = backend.pronounce(row["text"]) if hasattr(backend, "pronounce") else None
            row["phones_reference_audio"] = backend.phones(ref_wav)
            row["phones_resynthesis"] = backend.phones(syn_wav)
            row["phones_truth"] = ref_phones if ref_phones else row["phones_reference_audio"]
        rows.append(row)
    truth = [r["text"].split() for r in rows]
    out = {
        "backend": type(backend).__name__.lower(),
        "utterances": len(rows),
        "wer_reference": error_rate(truth, [r["hyp_reference"].split() for r in rows]),
        "wer_resynthesis": error_rate(truth, [r["hyp_resynthesis"].split() for r in rows]),
    }
    out["wer_delta"] = out["wer_resynthesis"] - out["wer_reference"]
    if do_phones:
        ptruth = [r["phones_truth"] for r in rows]
        out["per_reference"] = error_rate(ptruth, [r["phones_reference_audio"] for r in rows])
        out["per_resynthesis"] = error_rate(ptruth, [r["phones_resynthesis"] for r in rows])
        out["per_delta"] = out["per_resynthesis"] - out["per_reference"]
    out["by_utterance"] = rows
    return out


def read_transcripts(path: str | os.PathLike) -> dict[str, str]:
    """``id<TAB>text`` (or ``id text...``) per line -> ``{id: text}``."""
    path = Path(path)
    if not path.is_file():
        raise TextlessError(f"{path}: no such transcript file")
    out = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        key, sep, text = line.partition("\t") if "\t" in line else line.partition(" ")
        if not sep:
            raise TextlessError(f"{path}:{lineno}: expected 'id<TAB>text'")
        out[key.strip()] = text.strip()
    return out


def pair_folders(
    reference_dir: str | os.PathLike, resynthesis_dir: str | os.PathLike,
    transcripts: Mapping[str, str] | None = None,
) -> list[Utterance]:
    """Pair ``reference_dir/X.wav`` with ``resynthesis_dir/X.wav`` (by stem). ``reference_dir``
    may also be a manifest (:func:`textless.data.manifest.read_items`, ids as it gives them): a
    corpus ``manifest.tsv`` brings the texts of its ``transcripts.tsv``, used where
    ``transcripts`` has none."""
    from ..data.manifest import ManifestItem, read_items

    if Path(reference_dir).is_file():
        items = read_items(reference_dir)
    else:
        items = [ManifestItem(p.stem, p) for p in sorted(Path(reference_dir).glob("*.wav"))]
    ref = {it.id: it for it in items}
    syn = {p.stem: p for p in sorted(Path(resynthesis_dir).glob("*.wav"))}
    common = sorted(set(ref) & set(syn))
    if not common:
        raise TextlessError(f"no wav stem in both {reference_dir} and {resynthesis_dir}")
    if len(common) < len(ref):
        log.warning("%d reference files have no resynthesis", len(ref) - len(common))
    return [Utterance(s, ref[s].path, syn[s], (transcripts or {}).get(s, ref[s].text)) for s in common]
