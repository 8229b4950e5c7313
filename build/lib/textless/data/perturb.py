"""Speaker perturbations of a waveform that keep its length (and so its frame labels).

* :func:`change_gender`: Praat's "Change gender" (through parselmouth): formants scaled by
  ``formant_ratio`` (PSOLA resampling), pitch median scaled by ``pitch_ratio``; duration kept.
* :func:`random_speaker`: a random draw of both ratios in ContentVec's ranges (each in
  ``[1, max]`` or its inverse, with equal odds).

``wav: [T] float32`` at ``sample_rate`` Hz in, ``[T] float32`` out.
"""

from __future__ import annotations

import numpy as np

from ..errors import TextlessError

#: Praat's pitch-analysis floor and ceiling (Hz) for "Change gender", as ContentVec uses them.
PITCH_FLOOR_HZ, PITCH_CEILING_HZ = 75.0, 600.0


def change_gender(wav: np.ndarray, sample_rate: int, *, formant_ratio: float = 1.0,
                  pitch_ratio: float = 1.0) -> np.ndarray:
    """Scale the formants by ``formant_ratio`` and the pitch median by ``pitch_ratio``.

    Returns ``[T]`` float32, the same length as ``wav``. Unvoiced input (no pitch found) gets
    only the formant shift.
    """
    try:
        import parselmouth
    except ImportError:
        raise TextlessError("formant/pitch perturbation needs praat-parselmouth "
                            "(pip install praat-parselmouth)") from None
    x = np.asarray(wav, dtype=np.float64).reshape(-1)
    if x.size == 0 or (formant_ratio == 1.0 and pitch_ratio == 1.0):
        return x.astype(np.float32)
    sound = parselmouth.Sound(x, sampling_frequency=float(sample_rate))
    new_median = 0.0  # Praat: 0 keeps the pitch
    if pitch_ratio != 1.0:
        pitch = sound.to_pitch(pitch_floor=PITCH_FLOOR_HZ, pitch_ceiling=PITCH_CEILING_HZ)
        f0 = pitch.selected_array["frequency"]
        f0 = f0[f0 > 0]
        if f0.size:
            new_median = float(np.median(f0)) * pitch_ratio
    out = parselmouth.praat.call(sound, "Change gender", PITCH_FLOOR_HZ, PITCH_CEILING_HZ,
                                 float(formant_ratio), new_median, 1.0, 1.0)
    y = out.values[0].astype(np.float32)
    # PSOLA keeps the duration; guard the sample count against rounding
    return np.pad(y, (0, max(0, x.size - y.size)))[: x.size]


def random_speaker(rng: np.random.Generator, max_formant: float = 1.4, max_pitch: float = 2.0
                   ) -> tuple[float, float]:
    """``(formant_ratio, pitch_ratio)``: each uniform in ``[1, max]``, inverted with odds 1/2."""
    def draw(hi):
        r = rng.uniform(1.0, hi)
        return r if rng.random() < 0.5 else 1.0 / r

    return draw(max_formant), draw(max_pitch)
