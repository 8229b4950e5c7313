"""Unit HiFi-GAN vocoders: generator, discriminators, losses, training, checkpoint import.

* :class:`UnitHiFiGAN` (``VocoderConfig``): the generator, implements ``textless.pipeline.Vocoder``.
* :class:`UnitVocos` (``VocosConfig``): frame-rate ConvNeXt backbone + inverse STFT, same protocol.
* ``synthesize_stream(units, chunk_frames)`` on both: chunked synthesis (``.stream``).
* :func:`load_vocoder` (ours ``.safetensors``, or an official checkpoint + ``config.json``),
  :func:`load_official`, :func:`save_vocoder`; hub/native loaders live in ``.checkpoint``.
* ``textless.vocoders.train.train_vocoder`` / ``TrainConfig``: training (resume, DDP).
* ``textless.vocoders.resynth``: ``resynthesize_file`` (audio through a pipeline) and
  ``vocode_units`` (a unit file to ``<id>.wav`` files).
"""

from .checkpoint import load_official, load_vocoder, save_vocoder
from .hifigan import UnitHiFiGAN, VocoderConfig, apply_weight_norm, remove_weight_norm
from .vocos import UnitVocos, VocosConfig

__all__ = ["UnitHiFiGAN", "VocoderConfig", "UnitVocos", "VocosConfig", "apply_weight_norm", "remove_weight_norm", "load_official",
           "load_vocoder", "save_vocoder"]
