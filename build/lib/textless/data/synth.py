"""Multi-speaker corpus synthesis: sentences x voices -> 16 kHz wav files + manifest files.

Layout written by :func:`synthesize_corpus` in ``out_dir``::

    wav/<speaker>/<speaker>_<sentence index:06d>.wav   16 kHz mono 16-bit (indices from first_index)
    manifest.tsv      fairseq: root folder, then relative_path<TAB>num_samples
    transcripts.tsv   utt_id<TAB>words
    speakers.tsv      utt_id<TAB>speaker
    voices.json       {speaker: voice spec}, plus the seed and the counts

Each sentence is spoken by ``utterances_per_sentence`` voices chosen by a seeded permutation,
so every voice gets the same number of sentences (within one). Running it again with the same
arguments skips the wav files already present (each is written atomically, so a present file is
complete) and rewrites the manifest files; ``corpus.sha256`` (a hash of the sentences, voices,
seed and rate) makes it refuse to resume into a folder that holds a different corpus.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..errors import TextlessError
from ..files import atomic_open
from ..ids import safe_file_stem
from ..progress import progress
from .manifest import write_manifest, write_table
from .voices import Voice, check_engine, parse_voice, synthesize

log = logging.getLogger(__name__)


@dataclass
class CorpusReport:
    """What :func:`synthesize_corpus` produced."""

    out_dir: Path
    utterances: int
    synthesized: int  # newly written this run (the rest already existed)
    num_samples: int
    sample_rate: int
    speakers: list[str]

    @property
    def duration_s(self) -> float:
        return self.num_samples / self.sample_rate


def assign_voices(n_sentences: int, n_voices: int, seed: int, per_sentence: int = 1) -> list[list[int]]:
    """For each sentence, the indices of the ``per_sentence`` distinct voices that speak it.

    >>> a = assign_voices(10, 3, seed=0)
    >>> sorted(sum(a, []).count(v) for v in range(3))
    [3, 3, 4]
    """
    if not 1 <= per_sentence <= n_voices:
        raise TextlessError(f"utterances per sentence must be in [1, {n_voices}] (the voices given)")
    perm = list(range(n_sentences))
    random.Random(seed).shuffle(perm)
    return [[(perm[i] * per_sentence + j) % n_voices for j in range(per_sentence)]
            for i in range(n_sentences)]


def _job(args) -> tuple[int, bool]:
    spec, path, text, phones, sample_rate = args
    path = Path(path)
    if path.is_file():
        import soundfile as sf

        try:
            return sf.info(str(path)).frames, False
        except RuntimeError:  # not a complete wav (should not happen: writes are atomic)
            path.unlink()
    return synthesize(parse_voice(spec), path, text, phones=phones, sample_rate=sample_rate), True


def _exit_with_parent(parent_pid: int, period_s: float = 0.5) -> None:
    """Pool-worker initializer: end this worker when its parent is gone.

    A parent killed with SIGKILL cannot shut its pool down, and the workers (which inherited the
    writing end of their own task pipe) would wait for work forever; this thread ends them.
    """
    import threading
    import time

    def watch():
        while os.getppid() == parent_pid:
            time.sleep(period_s)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()


def speak_all(jobs, *, workers: int | None = None, desc: str = "synthesize",
              show_progress: bool = True) -> list[tuple[int, bool]]:
    """Run ``jobs: [(voice spec, wav path, text or None, phones or None, sample_rate)]`` in
    ``workers`` processes (default: all cores), skipping wav files that exist.

    Returns ``[(num_samples, newly_written)]`` in job order.
    """
    workers = workers or os.cpu_count() or 1
    bar = dict(total=len(jobs), desc=desc, unit="utt", enabled=show_progress)
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(min(workers, len(jobs)), initializer=_exit_with_parent,
                                 initargs=(os.getpid(),)) as pool:
            return list(progress(pool.map(_job, jobs, chunksize=16), **bar))
    return [_job(j) for j in progress(jobs, **bar)]


FINGERPRINT = "corpus.sha256"


def _claim(out_dir: Path, sentences, voices, seed, per_sentence, sample_rate, first_index=0) -> None:
    """Resuming is only safe for the same job: refuse a folder that holds another corpus."""
    job = [sentences, [v.spec for v in voices], seed, per_sentence, sample_rate]
    spec = json.dumps(job + [first_index] if first_index else job)
    digest = hashlib.sha256(spec.encode()).hexdigest()
    path = out_dir / FINGERPRINT
    if path.is_file() and path.read_text().strip() != digest:
        raise TextlessError(
            f"{out_dir} holds a corpus made from other sentences, voices or seed; "
            f"give another --out (or delete it) instead of mixing the two"
        )
    if not path.is_file():
        with atomic_open(path, "w") as f:
            f.write(digest + "\n")


def synthesize_corpus(
    sentences: list[str],
    voices: list[str | Voice],
    out_dir: str | os.PathLike,
    *,
    seed: int = 0,
    utterances_per_sentence: int = 1,
    workers: int | None = None,
    sample_rate: int = 16000,
    show_progress: bool = True,
    first_index: int = 0,
) -> CorpusReport:
    """Speak ``sentences`` with ``voices`` (specs like ``"flite:awb@pitch=3"``) into ``out_dir``.

    Utterance ids number the sentences from ``first_index`` (give corpora that are used together,
    e.g. two batches of a parallel corpus, disjoint ranges so that their ids stay unique).

    ``workers`` processes run the TTS engines (default: all CPU cores). Deterministic for a
    ``seed``; resumable (see the module doc). Returns a :class:`CorpusReport`.
    """
    if not sentences:
        raise TextlessError("no sentences to synthesize")
    voices = [v if isinstance(v, Voice) else parse_voice(v) for v in voices]
    if not voices:
        raise TextlessError("no voices given")
    speakers = [safe_file_stem(v.speaker) for v in voices]  # names folders: an espeak-ng voice name is free text
    if len(set(speakers)) != len(speakers):
        raise TextlessError(f"the same voice is given twice: {', '.join(speakers)}")
    for v in voices:
        check_engine(v)
    out_dir = Path(out_dir)
    if first_index < 0:
        raise TextlessError("the first utterance index must be >= 0")
    _claim(out_dir, sentences, voices, seed, utterances_per_sentence, sample_rate, first_index)
    jobs, entries, transcripts, utt_speakers = [], [], {}, {}
    for i, (sentence, chosen) in enumerate(
        zip(sentences, assign_voices(len(sentences), len(voices), seed, utterances_per_sentence))
    ):
        if not sentence.strip():
            raise TextlessError(f"sentence {i} is empty")
        for k in chosen:
            v = voices[k]
            uid = f"{v.speaker}_{first_index + i:06d}"
            rel = f"wav/{v.speaker}/{uid}.wav"
            jobs.append((v.spec, str(out_dir / rel), sentence, None, sample_rate))
            entries.append(rel)
            transcripts[uid] = sentence
            utt_speakers[uid] = v.speaker
    results = speak_all(jobs, workers=workers, show_progress=show_progress)
    lengths = [n for n, _ in results]
    write_manifest(out_dir / "manifest.tsv", out_dir, zip(entries, lengths))
    write_table(out_dir / "transcripts.tsv", transcripts)
    write_table(out_dir / "speakers.tsv", utt_speakers)
    report = CorpusReport(out_dir, len(jobs), sum(new for _, new in results), sum(lengths),
                          sample_rate, speakers)
    with atomic_open(out_dir / "voices.json", "w") as f:
        json.dump({"voices": {v.speaker: v.spec for v in voices}, "seed": seed,
                   "sentences": len(sentences), "utterances": report.utterances,
                   "sample_rate": sample_rate, "hours": round(report.duration_s / 3600, 4)},
                  f, indent=2)
    log.info("%s: %d utterances (%d new), %.2f h, %d speakers", out_dir, report.utterances,
             report.synthesized, report.duration_s / 3600, len(speakers))
    return report
