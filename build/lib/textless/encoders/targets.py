"""Frame targets for encoder training: copy a canonical utterance's labels onto another voice.

Two recordings of the same sentence are aligned with dynamic time warping (cosine distance of
per-utterance normalised MFCCs, steps (1,1), (1,0), (0,1) of equal weight, as
``librosa.sequence.dtw``); each frame of the other recording takes the label of the canonical
frame it is matched to (the middle one when it is matched to several).

>>> import numpy as np
>>> a = np.eye(3)[[0, 0, 1, 2, 2]]            # canonical frames: 3 sounds
>>> b = np.eye(3)[[0, 1, 1, 1, 2]]            # the same sounds, another timing
>>> transfer_labels(a, np.array([7, 7, 8, 9, 9]), b).tolist()
[7, 8, 8, 8, 9]
"""

from __future__ import annotations

import numpy as np


def dtw_path(query: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Best path ``[L, 2]`` of ``(query frame, reference frame)`` pairs, in time order.

    ``query: [N, D]``, ``reference: [M, D]``; cosine distance between frames.
    """
    import librosa

    q = np.ascontiguousarray(query, dtype=np.float64)
    r = np.ascontiguousarray(reference, dtype=np.float64)
    _, path = librosa.sequence.dtw(X=q.T, Y=r.T, metric="cosine", backtrack=True)
    return path[::-1]


def transfer_labels(reference: np.ndarray, labels: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Labels ``[N]`` for the ``query: [N, D]`` frames from ``labels: [M]`` of ``reference: [M, D]``."""
    labels = np.asarray(labels)
    m = min(len(reference), len(labels))
    path = dtw_path(query, reference[:m])
    out = np.empty(len(query), dtype=labels.dtype)
    # path rows are sorted by query frame: the matched reference frames of frame i are a run
    starts = np.searchsorted(path[:, 0], np.arange(len(query)), side="left")
    ends = np.searchsorted(path[:, 0], np.arange(len(query)), side="right")
    out[:] = labels[path[(starts + ends - 1) // 2, 1]]
    return out
