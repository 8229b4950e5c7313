"""Unit HiFi-GAN vocoders: generator, discriminators, losses, training, checkpoint import."""

from .hifigan import UnitHiFiGAN, VocoderConfig, apply_weight_norm, remove_weight_norm

__all__ = ["UnitHiFiGAN", "VocoderConfig", "apply_weight_norm", "remove_weight_norm"]
