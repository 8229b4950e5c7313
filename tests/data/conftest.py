"""Fixtures of the data tests: one tiny synthesized corpus and its alignment, made once."""

from __future__ import annotations

import shutil
from types import SimpleNamespace

import pytest

SENTENCES = [
    "the old man walked slowly to the small house near the river",
    "a young girl found the golden key in the garden",
    "three dogs slept under the wooden table",
]
VOICES = ["flite:slt", "flite:awb@pitch=3"]


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """``.out, .report, .sentences, .voices``: 3 sentences, each spoken by both voices (6 files)."""
    if shutil.which("flite") is None or shutil.which("sox") is None:
        pytest.skip("flite and sox are needed (scripts/setup.sh installs them)")
    from textless.data.synth import synthesize_corpus

    out = tmp_path_factory.mktemp("corpus")
    report = synthesize_corpus(SENTENCES, VOICES, out, seed=3, utterances_per_sentence=2,
                               workers=2, show_progress=False)
    return SimpleNamespace(out=out, report=report, sentences=SENTENCES, voices=VOICES)


@pytest.fixture(scope="session")
def aligned(corpus):
    """``(align_dir, AlignmentReport)`` of the :func:`corpus` fixture."""
    from textless.data.align import align

    out = corpus.out
    report = align(out / "manifest.tsv", out / "transcripts.tsv", out / "align",
                   show_progress=False)
    return out / "align", report
