"""Typed errors for everything a user can get wrong.

The CLI catches :class:`TextlessError`, prints ``textless: error: <message>`` as one line and
exits with status 2. Any other exception is a bug in textless and keeps its traceback.
"""


class TextlessError(Exception):
    """Base class of every error a user can cause (bad input, missing file, unknown model)."""


class AudioError(TextlessError):
    """An audio file cannot be used."""


class UnreadableAudioError(AudioError):
    """The file is missing or is not in a format libsndfile can decode."""


class EmptyAudioError(AudioError):
    """The file decodes to zero samples."""


class AudioTooShortError(AudioError):
    """Fewer samples than the encoder's receptive field."""


class AudioTooLongError(AudioError):
    """Longer than the configured maximum duration."""


class NonFiniteAudioError(AudioError):
    """The signal contains NaN or Inf."""


class UnitsFormatError(TextlessError):
    """A unit file (JSON Lines or fairseq ``id|u1 u2``) is malformed."""


class ModelNotFoundError(TextlessError):
    """No bundle of that name is registered."""


class DownloadError(TextlessError):
    """A file could not be fetched (no network, HTTP error)."""


class ChecksumError(DownloadError):
    """A downloaded or imported file does not match its registered sha256."""


class CheckpointError(TextlessError):
    """A checkpoint does not match the architecture, or its pickle is unsafe."""


class IncompatibleComponentsError(TextlessError):
    """Pipeline components disagree (frame rate, vocabulary size, sample rate)."""
