"""Train a unit vocoder on audio + units (CPU or GPU, single process or DDP under torchrun).

``arch="hifigan"`` (default): a :class:`UnitHiFiGAN` against multi-period + multi-scale
discriminators. ``arch="vocos"``: a :class:`~textless.vocoders.vocos.UnitVocos` against
multi-period + multi-resolution discriminators. Both: LSGAN + feature matching + mel-L1, with an
optional mel-L1-only warm-up (``disc_start``).

The corpus is loaded into memory: each utterance as ``wav [N * hop]`` float32 and
``units [N]`` int64 (undeduplicated frames), with an optional speaker index and unit-aligned
normalised F0 ``[N]``. Every step draws its global batch of random segment crops from a
generator seeded by ``(seed, step)`` and rank ``r`` of ``W`` takes the slice ``r``; so a run
resumed from a checkpoint, or split over processes, sees exactly the batches of an
uninterrupted single run. The learning rate is a pure function of the step (no scheduler state).

The run folder (:mod:`textless.trainer`): ``state.pt`` (training state, read with
``weights_only=True``), ``log.jsonl`` (losses per step; validation mel-L1 every ``valid_every``
steps), ``generator.safetensors`` (folded generator, our format; every ``save_every`` steps),
``samples/step_XXXXXXXX.wav`` (the first validation utterance, at each validation),
``train_config.json`` (the run's settings, speakers and F0 statistics), and with
``snapshot_every`` a copy of the generator ``snapshots/step_<N>.safetensors`` at those steps
(for ``recipes/vocoder_curve.py``). All files are written atomically by rank 0. Models and
batches live on ``device`` (``cuda`` becomes ``cuda:LOCAL_RANK`` under torchrun).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..audio import write_audio
from ..distributed import init_distributed
from ..errors import TextlessError
from ..files import atomic_open
from ..progress import progress
from ..trainer import RunLog, check_resume, check_world, load_state, save_state
from .checkpoint import save_vocoder
from .data import Utterance, draw_batch, duration_targets, load_corpus
from .discriminators import MultiPeriodDiscriminator, MultiResolutionDiscriminator, MultiScaleDiscriminator
from .hifigan import UnitHiFiGAN, VocoderConfig, apply_weight_norm
from .presets import generator_config, upsample_plan  # noqa: F401 (upsample_plan: API)
from .losses import LogMel, MelConfig, discriminator_loss, feature_loss, generator_loss

log = logging.getLogger(__name__)
ARCHS = ("hifigan", "vocos")
GENERATOR_FILE = "generator.safetensors"


@dataclass(frozen=True)
class TrainConfig:
    """``steps`` optimizer steps of ``batch_size`` segments (per process) of ``segment_frames`` unit
    frames. Learning rate ``lr * lr_decay ** (step / 1000)``; Adam ``betas``. Losses: LSGAN +
    feature matching + ``mel_weight`` * mel-L1 (+ ``dur_weight`` * duration MSE on log(d + 1)).
    ``disc_width`` scales the discriminators' channels: at 1.0 (HiFi-GAN) they cost ~30x the
    ``small`` generator per step, at the default 0.125 about as much (a CPU budget; use 1.0 on a GPU).
    Before step ``disc_start`` the generator learns from mel-L1 (+ duration) alone and the
    discriminators are not run: a cheap warm-up that makes the units audible early on a CPU.
    The learning rate does not depend on ``steps``: a finished run goes on with a larger one.
    ``checkpoint_every``: the deprecated name of ``save_every``."""

    steps: int = 10000
    batch_size: int = 8
    segment_frames: int = 32
    lr: float = 2e-4
    betas: tuple = (0.8, 0.99)
    lr_decay: float = 0.999
    save_every: int = 500
    valid_every: int = 500
    snapshot_every: int = 0  # keep the generator of every such step (0: none); at checkpoints only
    valid_utterances: int = 2
    f0: bool = False
    f0_method: str = "dio"
    speakers: bool = False
    duration_predictor: bool = False
    disc_width: float = 0.125
    mel_weight: float = 45.0
    dur_weight: float = 1.0
    disc_start: int = 0
    seed: int = 0
    arch: str = "hifigan"
    device: str = "cpu"
    checkpoint_every: dataclasses.InitVar[int | None] = None

    def __post_init__(self, checkpoint_every):
        if checkpoint_every is not None:
            warnings.warn("TrainConfig(checkpoint_every=) is deprecated: use save_every",
                          DeprecationWarning, stacklevel=3)
            object.__setattr__(self, "save_every", checkpoint_every)
        if self.arch not in ARCHS:
            raise TextlessError(f"unknown vocoder architecture --arch {self.arch!r}; known: {', '.join(ARCHS)}")


class _GeneratorStep(torch.nn.Module):
    """One forward for DDP: waveform of the segment + predicted log-durations of its dedup units."""

    def __init__(self, generator: UnitHiFiGAN):
        super().__init__()
        self.generator = generator

    def forward(self, code, f0, speaker, dedup_units):
        g = self.generator
        wav = g(code, f0=f0, speaker=speaker if g.config.has_speakers else None)
        log_dur = g.dur_predictor(g.dict(dedup_units)) if dedup_units is not None else None
        return wav, log_dur


class _Discriminators(torch.nn.Module):
    """MPD + MSD (hifigan) or MPD + MRD (vocos), ``width`` scaling their channels."""

    def __init__(self, width: float, arch: str = "hifigan"):
        super().__init__()
        self.mpd = MultiPeriodDiscriminator(width=width)
        if arch == "vocos":
            self.mrd = MultiResolutionDiscriminator(width=width)
        else:
            self.msd = MultiScaleDiscriminator(width=width)

    def forward(self, wav):
        sp, fp = self.mpd(wav)
        ss, fs = (self.mrd if hasattr(self, "mrd") else self.msd)(wav)
        return sp + ss, fp + fs


def build_models(vconf, cfg: "TrainConfig"):
    """Random-init generator (weight norm on for a HiFi-GAN) and discriminators of ``cfg.arch``,
    from the torch seed as it stands."""
    if cfg.arch == "vocos":
        from .vocos import UnitVocos

        G = UnitVocos(vconf)
    else:
        G = apply_weight_norm(UnitHiFiGAN(vconf))
    return G.train(), _Discriminators(cfg.disc_width, cfg.arch).train()


def _load_init(G, path, vconf):
    """Copy the weights of the generator file ``path`` into ``G`` (weight norm re-applied to a
    folded HiFi-GAN), after checking that both have the same config."""
    from .checkpoint import load_vocoder

    start = load_vocoder(path)
    if type(start.config) is not type(vconf) or start.config != vconf:
        mine, theirs = dataclasses.asdict(vconf), dataclasses.asdict(start.config)
        diff = sorted(k for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k))
        raise TextlessError(f"--init {path}: another generator config than this run's (differs in {diff})")
    if isinstance(start, UnitHiFiGAN):
        start = apply_weight_norm(start)
    G.load_state_dict(start.state_dict())
    log.info("starting from the generator %s", path)


# ---------------------------------------------------------------------------- training
#: Settings a run may change when it resumes (the learning rate does not depend on ``steps``;
#: ``disc_start`` only decides what the steps still to come do, so a warm-up can be ended or
#: prolonged on resume, e.g. after a wall-clock budget).
_RESUME_FREE = {"steps", "save_every", "valid_every", "snapshot_every", "device", "disc_start"}
_RENAMED = {"checkpoint_every": "save_every"}  # fields of states saved by earlier versions


def _on(device, t: torch.Tensor | None) -> torch.Tensor | None:
    return None if t is None else t.to(device)


@torch.no_grad()
def validate(generator, utts: list[Utterance], logmel: LogMel) -> float:
    """Mean log-mel L1 between the generator's output and the audio of ``utts`` (whole utterances)."""
    was = generator.training
    generator.eval()
    losses = []
    for u in utts:
        wav = _synthesize(generator, u)
        losses.append(float(F.l1_loss(logmel(wav[None]), logmel(_on(wav.device, u.wav)[None]))))
    generator.train(was)
    return float(np.mean(losses))


def _synthesize(generator, u: Utterance) -> torch.Tensor:
    """``wav [N * hop]`` of one whole utterance, on the generator's device."""
    device = next(generator.parameters()).device
    f0 = _on(device, u.f0[None]) if u.f0 is not None else None
    spk = torch.tensor([u.speaker], device=device) if generator.config.has_speakers else None
    return generator(_on(device, u.units[None]), f0=f0, speaker=spk)[0]


def train_vocoder(audio, out_dir, cfg: TrainConfig = TrainConfig(), *, units=None, model=None,
                  generator: str | VocoderConfig = "small", sample_rate: int = 16000, init=None,
                  show_progress: bool = True) -> Path:
    """Train (or resume, when ``out_dir/state.pt`` exists) a unit vocoder of ``cfg.arch``; returns
    the path of the exported ``generator.safetensors``. See the module docstring for the files.
    ``init``: a generator file to start from instead of random weights (a fresh run only; its
    config must equal the one ``generator`` and the data give)."""
    rank, world, device = init_distributed(cfg.device)
    out_dir = Path(out_dir)
    utts, frame_rate, vocab, speakers, f0_stats = load_corpus(
        audio, sample_rate, units_path=units, model=model, f0=cfg.f0, f0_method=cfg.f0_method,
        show_progress=show_progress and rank == 0,
    )
    hop = int(round(sample_rate / frame_rate))
    extra = dict(f0=cfg.f0, duration_predictor=cfg.duration_predictor)
    if cfg.speakers:
        if not speakers:
            raise TextlessError("--speakers needs a speaker column in the audio list (path<TAB>speaker)")
        extra.update(num_speakers=len(speakers), speakers=tuple(speakers))
    vconf = generator if not isinstance(generator, str) else generator_config(
        generator, vocab_size=vocab, sample_rate=sample_rate, hop_length=hop, arch=cfg.arch, **extra)
    n_valid = min(cfg.valid_utterances, len(utts) - 1)
    valid, train = utts[:n_valid], utts[n_valid:]
    train = [u for u in train if u.units.numel() >= cfg.segment_frames]
    if not train:
        raise TextlessError(f"no training utterance has {cfg.segment_frames} unit frames: lower --segment-frames")

    state = load_state(out_dir, "a vocoder training state")
    if state is not None:
        check_resume(state["train_config"], cfg, out_dir, free=_RESUME_FREE, renamed=_RENAMED)
        check_world(state, world)
        if state["vocoder_config"] != dataclasses.asdict(vconf):
            raise TextlessError(f"{out_dir}: saved for another generator config; use a new --out")
    torch.manual_seed(cfg.seed)
    G, D = build_models(vconf, cfg)
    if init is not None and state is None:
        _load_init(G, init, vconf)
    G, D = G.to(device), D.to(device)
    opt_g = torch.optim.AdamW(G.parameters(), cfg.lr, betas=cfg.betas, weight_decay=0.01)
    opt_d = torch.optim.AdamW(D.parameters(), cfg.lr, betas=cfg.betas, weight_decay=0.01)
    step = 0
    if state is not None:
        G.load_state_dict(state["generator"])
        D.load_state_dict(state["discriminators"])
        opt_g.load_state_dict(state["optim_g"])
        opt_d.load_state_dict(state["optim_d"])
        step = int(state["step"])
    logmel = LogMel(MelConfig(sample_rate=sample_rate)).to(device)
    G_step, D_run = _GeneratorStep(G), D
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel as DDP

        G_step, D_run = DDP(G_step), DDP(D)
    if rank == 0:
        out_dir.mkdir(parents=True, exist_ok=True)
        with atomic_open(out_dir / "train_config.json", "w") as f:
            json.dump({"train": dataclasses.asdict(cfg), "generator": dataclasses.asdict(vconf),
                       "speakers": speakers, "f0_stats": f0_stats, "world_size": world}, f, indent=2)

    bar = progress(total=cfg.steps, initial=step, desc="training vocoder", unit="step",
                   enabled=show_progress and rank == 0)
    runlog = RunLog(out_dir, step, enabled=rank == 0)
    try:
        while step < cfg.steps:
            torch.manual_seed(cfg.seed * 1_000_003 + step * world + rank)  # dropout of the dur predictor
            lr = cfg.lr * cfg.lr_decay ** (step / 1000)
            for opt in (opt_g, opt_d):
                for group in opt.param_groups:
                    group["lr"] = lr
            b = draw_batch(train, step, cfg.seed, cfg.batch_size, rank, world, cfg.segment_frames, hop)
            record = train_step(G_step, D_run, opt_g, opt_d, b, logmel, cfg, vconf, step >= cfg.disc_start)
            step += 1
            record = {"step": step, **record, "lr": lr}
            if rank == 0 and valid and (step % cfg.valid_every == 0 or step == cfg.steps):
                record["valid_mel_l1"] = validate(G, valid, logmel)
                with torch.no_grad():
                    G.eval()
                    wav = _synthesize(G, valid[0]).cpu()
                    G.train()
                write_audio(out_dir / "samples" / f"step_{step:08d}.wav", wav, vconf.sample_rate)
            runlog.write(record)
            bar.update(1)
            bar.set_postfix(mel=f"{record['loss_mel']:.3f}", d=f"{record['loss_d']:.3f}")
            if rank == 0 and (step % cfg.save_every == 0 or step == cfg.steps):
                _checkpoint(out_dir, step, G, D, opt_g, opt_d, vconf, cfg, world)
    finally:
        bar.close()
        runlog.close()
    if world > 1:
        import torch.distributed as dist

        dist.barrier()
    return out_dir / GENERATOR_FILE


def train_step(G_step, D_run, opt_g, opt_d, b: dict, logmel, cfg: TrainConfig, vconf, adversarial: bool) -> dict:
    """One optimizer step of the discriminators (when ``adversarial``) then of the generator on
    the batch ``b`` (from :func:`draw_batch`, moved to ``logmel``'s device); returns the losses
    as floats."""
    device = logmel.mel_basis.device
    dedup_units = durs = mask = None
    if vconf.duration_predictor:
        dedup_units, durs, mask = (t.to(device) for t in duration_targets(b["code"]))
    b = {k: _on(device, v) for k, v in b.items()}
    real = b["wav"].unsqueeze(1)
    fake, log_dur = G_step(b["code"], b["f0"], b["speaker"], dedup_units)
    fake = fake.unsqueeze(1)

    loss_d = loss_adv = loss_fm = torch.zeros(())
    if adversarial:
        opt_d.zero_grad(set_to_none=True)
        real_scores, _ = D_run(real)
        fake_scores, _ = D_run(fake.detach())
        loss_d = discriminator_loss(real_scores, fake_scores)
        loss_d.backward()
        opt_d.step()

    opt_g.zero_grad(set_to_none=True)
    loss_mel = F.l1_loss(logmel(fake), logmel(real))
    if adversarial:
        with torch.no_grad():  # real feature maps are targets only
            _, real_fmaps = D_run(real)
        fake_scores, fake_fmaps = D_run(fake)
        loss_adv = generator_loss(fake_scores)
        loss_fm = feature_loss(real_fmaps, fake_fmaps)
    loss_g = loss_adv + loss_fm + cfg.mel_weight * loss_mel
    loss_dur = torch.zeros(())
    if log_dur is not None:
        target = torch.log(durs.float() + 1)
        loss_dur = ((log_dur - target) ** 2 * mask).sum() / mask.sum()
        loss_g = loss_g + cfg.dur_weight * loss_dur
    loss_g.backward()
    opt_g.step()
    return {"loss_d": loss_d.item(), "loss_adv": loss_adv.item(), "loss_fm": loss_fm.item(),
            "loss_mel": loss_mel.item(), "loss_dur": loss_dur.item()}


def _checkpoint(out_dir, step, G, D, opt_g, opt_d, vconf, cfg, world):
    save_state(out_dir, {
        "step": step, "generator": G.state_dict(), "discriminators": D.state_dict(),
        "optim_g": opt_g.state_dict(), "optim_d": opt_d.state_dict(), "world_size": world,
        "vocoder_config": dataclasses.asdict(vconf), "train_config": dataclasses.asdict(cfg),
    })
    save_vocoder(G, out_dir / GENERATOR_FILE)
    if cfg.snapshot_every and step % cfg.snapshot_every == 0:
        (out_dir / "snapshots").mkdir(exist_ok=True)
        save_vocoder(G, out_dir / "snapshots" / f"step_{step}.safetensors")
    log.info("step %d: saved %s", step, out_dir / GENERATOR_FILE)
