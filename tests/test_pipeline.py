"""Pipeline wiring with minimal stand-in components (real ones are tested in their own dirs)."""

from dataclasses import dataclass

import pytest
import torch

from textless.errors import IncompatibleComponentsError, TextlessError
from textless.pipeline import Encoder, Pipeline, Quantizer, Vocoder, load_pipeline
from textless.units import expand


class FrameEnergy:
    """Encoder stand-in: 1-dim feature = mean of each 160-sample frame (100 Hz at 16 kHz)."""

    sample_rate, frame_rate, receptive_field, hop = 16000, 100.0, 160, 160

    def features(self, wav, lengths=None, layer=None):
        frames = wav[:, : wav.shape[1] // self.hop * self.hop].reshape(wav.shape[0], -1, self.hop)
        lengths = torch.full((wav.shape[0],), wav.shape[1]) if lengths is None else lengths
        return frames.mean(-1, keepdim=True), lengths // self.hop


class Sign:
    """Quantizer stand-in: unit 1 for positive features, 0 otherwise."""

    vocab_size, dim = 2, 1

    def assign(self, feats):
        return (feats[..., 0] > 0).long()


@dataclass
class Repeat:
    """Vocoder stand-in: each frame becomes hop_length samples of +-0.5."""

    sample_rate: int = 16000
    hop_length: int = 160
    vocab_size: int = 2

    def synthesize(self, units, speaker=None):
        ids = units.units if units.durations is None else expand(units.units, units.durations)
        return (ids.float() - 0.5).repeat_interleave(self.hop_length)


def test_stand_ins_satisfy_the_protocols():
    assert isinstance(FrameEnergy(), Encoder) and isinstance(Sign(), Quantizer)
    assert isinstance(Repeat(), Vocoder)


def test_encode_batch_equals_single_items_and_resynth_length():
    pipe = Pipeline(FrameEnergy(), Sign(), vocoder=Repeat(), name="toy")
    a = torch.cat([torch.ones(800), -torch.ones(480)])   # 5 frames +, 3 frames -
    b = -torch.ones(320)                                  # 2 frames -
    batch = pipe.encode_batch([a, b], ids=["a", "b"])
    assert batch[0].units.tolist() == [1, 0] and batch[0].durations.tolist() == [5, 3]
    assert batch[1].units.tolist() == [0] and batch[1].durations.tolist() == [2]
    single = pipe.encode(b)
    assert torch.equal(single.units, batch[1].units) and torch.equal(single.durations, batch[1].durations)
    assert batch[0].model == "toy" and batch[0].frame_rate == 100.0 and batch[0].vocab_size == 2
    wav = pipe.resynthesize(batch[0])
    assert wav.shape[0] == batch[0].num_frames * 160


def test_components_must_agree():
    with pytest.raises(IncompatibleComponentsError, match="vocabulary"):
        Pipeline(FrameEnergy(), Sign(), vocoder=Repeat(vocab_size=3))
    with pytest.raises(IncompatibleComponentsError, match="frame rate"):
        Pipeline(FrameEnergy(), Sign(), vocoder=Repeat(hop_length=320))

    class LM:
        vocab_size = 5

    with pytest.raises(IncompatibleComponentsError, match="unit LM"):
        Pipeline(FrameEnergy(), Sign(), ulm=LM())


def test_missing_parts_are_user_errors(tmp_path):
    pipe = Pipeline(FrameEnergy(), Sign())
    with pytest.raises(TextlessError, match="no vocoder"):
        pipe.resynthesize(pipe.encode(torch.ones(320)))
    with pytest.raises(TextlessError, match="no unit language model"):
        pipe.continue_speech(torch.ones(320))
    with pytest.raises(TextlessError, match="not a pipeline folder"):
        load_pipeline(str(tmp_path))
    with pytest.raises(TextlessError, match="of role encoder, not a pipeline"):
        load_pipeline("hubert-base-ls960")
