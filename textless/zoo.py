"""The official textless model zoo (facts in docs/models.md) and the pipelines built from it.

Every entry is a keyword :class:`~textless.bundle.Bundle` literal: role and format (the one
spelling of kinds, docs/loading.md), the loader function, rates, and every official file with
its URL and sha256. Auxiliary files (vocoder config, speakers, styles; Tacotron code
dictionaries) belong to the bundle they serve, under a file role. The names are looked up
through :func:`textless.hub.registry`, never here.
"""

from __future__ import annotations

import json
from pathlib import Path

from .bundle import PACKAGE_PREFIX, Bundle, RemoteFile
from .encoders.cpc_import import load_bundle as load_cpc
from .encoders.fairseq_import import load_bundle as load_hubert
from .quantizers.kmeans import load_bundle as load_kmeans
from .vocoders.checkpoint import load_bundle as load_hifigan
from .zoo_gslm import gslm_bundles

_FAIRSEQ = "MIT (fairseq release)"
_TEXTLESSLIB = "upstream terms (textlesslib release)"


def component_bundles() -> list[Bundle]:
    """The official components: encoders, k-means quantizers, vocoders, unit LMs (the GSLM and
    S2UT part from :mod:`textless.zoo_gslm`)."""
    return [
        Bundle(name="hubert-base-ls960", role="encoder", format="hubert", loader=load_hubert, sample_rate=16000, frame_rate=50.0, license=_FAIRSEQ,
               description="HuBERT base, LibriSpeech 960 h (fairseq)",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/hubert/hubert_base_ls960.pt",
                              "1703cf8d2cdc76f8c046f5f6a9bcd224e0e6caf4744cad1a1f4199c32cac8c8d", "hubert_base_ls960.pt"),
               )),
        Bundle(name="mhubert-base-vp_en_es_fr", role="encoder", format="hubert", loader=load_hubert, sample_rate=16000, frame_rate=50.0, license=_FAIRSEQ,
               description="mHuBERT base, VoxPopuli en/es/fr, iteration 3",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/hubert/mhubert_base_vp_en_es_fr_it3.pt",
                              "23527cd6311a6617bfa199f574e2eed478cd6a58a634f4007165c10ec0019832", "mhubert_base_vp_en_es_fr_it3.pt"),
               )),
        Bundle(name="mhubert-base-vp_mls_cv_8lang", role="encoder", format="hubert", loader=load_hubert, sample_rate=16000, frame_rate=50.0, license=_FAIRSEQ,
               description="mHuBERT base, 8 languages, iteration 3",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/hubert/mhubert_base_vp_mls_cv_8lang_it3.pt",
                              "fa82eaccb557465f4732662e3a744c30c953059147ac6a4c92f1f3e0daeda61e", "mhubert_base_vp_mls_cv_8lang_it3.pt"),
               )),
        Bundle(name="mhubert-base-25hz", role="encoder", format="hubert", loader=load_hubert, sample_rate=16000, frame_rate=25.0, license=_TEXTLESSLIB,
               description="mHuBERT base at 25 Hz (TWIST tokenizer)",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/twist/speech_tokenizer/mhubert_base_25hz_cp_mls_cv_sp_fisher.pt",
                              "edf0f5be2581a568a236aeb2781a5607c5af25806e12f40f7f2391e861fe3cf0", "mhubert_base_25hz_cp_mls_cv_sp_fisher.pt"),
               )),
        Bundle(name="hubert-base-ls960-kmeans-50", role="quantizer", format="kmeans", loader=load_kmeans, sample_rate=16000, frame_rate=50.0, layer=6, vocab_size=50, license=_TEXTLESSLIB,
               description="GSLM k-means 50 on HuBERT base L6",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/hubert/km50/km.bin",
                              "d01a7d5bc2c54b7b5f25f321ba525b4d230b06e3927f90bad0394198bc89f494", "hubert_base_ls960_km50.pt"),
               )),
        Bundle(name="hubert-base-ls960-kmeans-100", role="quantizer", format="kmeans", loader=load_kmeans, sample_rate=16000, frame_rate=50.0, layer=6, vocab_size=100, license=_TEXTLESSLIB,
               description="GSLM k-means 100 on HuBERT base L6",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/hubert/km100/km.bin",
                              "f14a3104615485381fc489701d6761c9abbdbb0d43607cf55518a1e2891023fe", "hubert_base_ls960_km100.pt"),
               )),
        Bundle(name="hubert-base-ls960-kmeans-200", role="quantizer", format="kmeans", loader=load_kmeans, sample_rate=16000, frame_rate=50.0, layer=6, vocab_size=200, license=_TEXTLESSLIB,
               description="GSLM k-means 200 on HuBERT base L6",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/hubert/km200/km.bin",
                              "b3c46c9cdd1707ad852dd53c359aa73942e79d53c432a9a8a419ed046408024b", "hubert_base_ls960_km200.pt"),
               )),
        Bundle(name="hubert-base-ls960-kmeans-500", role="quantizer", format="kmeans", loader=load_kmeans, sample_rate=16000, frame_rate=50.0, layer=6, vocab_size=500, license=_TEXTLESSLIB,
               description="GSLM k-means 500 on HuBERT base L6",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/hubert/km500/km.bin",
                              "411c8668e1314751404f58636f935fc73540a6793890435da4a8ffadf157398e", "hubert_base_ls960_km500.pt"),
               )),
        Bundle(name="mhubert-base-vp_en_es_fr-layer-11-kmeans-1000", role="quantizer", format="kmeans", loader=load_kmeans, sample_rate=16000, frame_rate=50.0, layer=11, vocab_size=1000, license=_FAIRSEQ,
               description="k-means 1000 on mHuBERT en/es/fr L11 (S2UT)",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/hubert/mhubert_base_vp_en_es_fr_it3_L11_km1000.bin",
                              "c70f5416c38044d0c20e33fdeedf4533974a8ac4029985cdef3b755038381a0b", "mhubert_base_vp_en_es_fr_it3_L11_km1000.bin"),
               )),
        Bundle(name="hubert-base-ls960-layer-9-kmeans-500", role="quantizer", format="kmeans", loader=load_kmeans, sample_rate=16000, frame_rate=50.0, layer=9, vocab_size=500, license=_TEXTLESSLIB,
               description="k-means 500 on HuBERT base L9",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/hubert/hubert_base_ls960_L9_km500.bin",
                              "4450dcbc90aa7d0553306a4b0fafef35c9b3c840468f02969273dfbb9db89a23", "hubert_base_ls960_L9_km500.pt"),
               )),
        Bundle(name="hubert-base-ls960-layer-9-kmeans-expresso-2000", role="quantizer", format="kmeans", loader=load_kmeans, sample_rate=16000, frame_rate=50.0, layer=9, vocab_size=2000, license=_TEXTLESSLIB,
               description="k-means 2000 on HuBERT base L9 (Expresso)",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/hubert_base_ls960_L9_km2000_expresso.bin",
                              "ae73e3cc7ea0426faf43c8bb67fc3846a0f8708232526d045a101836e8c7929f", "hubert_base_ls960_L9_km2000_expresso.pt"),
               )),
        Bundle(name="mhubert-base-vp_mls_cv_8lang-kmeans-2000", role="quantizer", format="kmeans", loader=load_kmeans, sample_rate=16000, frame_rate=50.0, layer=12, vocab_size=2000, license=_TEXTLESSLIB,
               description="k-means 2000 on mHuBERT 8lang L12",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/hubert/mhubert_base_vp_mls_cv_8lang_it3_L12_km2000.bin",
                              "05de230870427dcdce334d29922ccce354c7e7d0574edc645f5daed47b1ccc18", "mhubert_base_vp_mls_cv_8lang_it3_L12_km2000.pt"),
               )),
        Bundle(name="mhubert-base-vp_mls_cv_8lang-kmeans-expresso-2000", role="quantizer", format="kmeans", loader=load_kmeans, sample_rate=16000, frame_rate=50.0, layer=12, vocab_size=2000, license=_TEXTLESSLIB,
               description="k-means 2000 on mHuBERT 8lang L12 (Expresso)",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/mhubert_base_vp_mls_cv_8lang_it3_L12_km2000_expresso.bin",
                              "bda2dbf5fe42bf59359799b281498a9d7fd0a9ec703d6dc54a4a4a0ff70a4e22", "mhubert_base_vp_mls_cv_8lang_it3_L12_km2000_expresso.pt"),
               )),
        Bundle(name="mhubert-base-25hz-kmeans-500", role="quantizer", format="kmeans", loader=load_kmeans, sample_rate=16000, frame_rate=25.0, layer=11, vocab_size=500, license=_TEXTLESSLIB,
               description="k-means 500 on mHuBERT 25 Hz L11",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/twist/speech_tokenizer/mhubert_base_25hz_cp_mls_cv_sp_fisher_L11_km500.bin",
                              "03cc04a9c24fec4285e73e709c485756d8f116aa8e724eac555de6a7cf8d28ad", "mhubert_base_25hz_cp_mls_cv_sp_fisher_L11_km500.bin"),
               )),
        Bundle(name="mhubert-base-25hz-kmeans-500-hifigan", role="vocoder", format="hifigan", loader=load_hifigan, sample_rate=16000, frame_rate=25.0, vocab_size=500, license=_TEXTLESSLIB,
               description="unit HiFi-GAN, LJSpeech, duration predictor (TWIST)",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/twist/speech_tokenizer/hifigan_lj_mhubert_base_25hz.pt",
                              "d88224e95c501e2cd59a6e4014753169cfe060fb7ade3cc0da03c809fef73b79", "hifigan_lj_mhubert_base_25hz.pt"),
                   RemoteFile("config", "https://dl.fbaipublicfiles.com/textless_nlp/twist/speech_tokenizer/hifigan_lj_mhubert_base_25hz_config.json",
                              "116dc39be4970cd393e562acd0a0ec70a86aaba7e9ca469b8b836cb3fe46afc7", "hifigan_lj_mhubert_base_25hz_config.json"),
               )),
        Bundle(name="hubert-base-ls960-layer-9-kmeans-500-hifigan", role="vocoder", format="hifigan", loader=load_hifigan, sample_rate=16000, frame_rate=50.0, vocab_size=500, license=_TEXTLESSLIB,
               description="unit HiFi-GAN, Expresso+LJ+VCTK, speakers and styles",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/hifigan_expresso_lj_vctk_hubert_base_ls960_L9_km500/generator.pt",
                              "d50f4704e961c29cb386924ef32cd0c3a4d1089a3f9be856f8a3b6dcfdd6147a", "hifigan_expresso_lj_vctk_hubert_base_ls960_L9_km500_generator.pt"),
                   RemoteFile("config", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/hifigan_expresso_lj_vctk_hubert_base_ls960_L9_km500/config.json",
                              "31e65ef5e100cb43de08f2c8d225496ace1ed87a49fcb8ee44bd6805f079b1f0", "hifigan_expresso_lj_vctk_hubert_base_ls960_L9_km500_config.json"),
                   RemoteFile("speakers", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/hifigan_expresso_lj_vctk_hubert_base_ls960_L9_km500/speakers.txt",
                              "2efabb7a4ad786da34fe6fbe99c3906b7abd40b2e01c81b7efde76142ae3d552", "hifigan_expresso_lj_vctk_hubert_base_ls960_L9_km500_speakers.txt"),
                   RemoteFile("styles", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/hifigan_expresso_lj_vctk_hubert_base_ls960_L9_km500/styles.txt",
                              "a6f63206518448277c63c3a251ac13484784829cf2e1b0a23b0860dd32543520", "hifigan_expresso_lj_vctk_hubert_base_ls960_L9_km500_styles.txt"),
               )),
        Bundle(name="hubert-base-ls960-layer-9-kmeans-expresso-2000-hifigan", role="vocoder", format="hifigan", loader=load_hifigan, sample_rate=16000, frame_rate=50.0, vocab_size=2000, license=_TEXTLESSLIB,
               description="unit HiFi-GAN, Expresso+LJ+VCTK, speakers and styles",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/hifigan_expresso_lj_vctk_hubert_base_ls960_L9_km2000_expresso/generator.pt",
                              "b892fdcca889f4bc6d7f0a0f407ae5d01eca8aaa66b9be333ef33a1c50f2ef52", "hifigan_expresso_lj_vctk_hubert_base_ls960_L9_km2000_expresso_generator.pt"),
                   RemoteFile("config", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/hifigan_expresso_lj_vctk_hubert_base_ls960_L9_km2000_expresso/config.json",
                              "73932563cedc43cd1dcddfab36ce3b2c3cb76eef3423d25d1fb536ce1ec513bb", "hifigan_expresso_lj_vctk_hubert_base_ls960_L9_km2000_expresso_config.json"),
                   RemoteFile("speakers", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/hifigan_expresso_lj_vctk_hubert_base_ls960_L9_km2000_expresso/speakers.txt",
                              "2efabb7a4ad786da34fe6fbe99c3906b7abd40b2e01c81b7efde76142ae3d552", "hifigan_expresso_lj_vctk_hubert_base_ls960_L9_km2000_expresso_speakers.txt"),
                   RemoteFile("styles", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/hifigan_expresso_lj_vctk_hubert_base_ls960_L9_km2000_expresso/styles.txt",
                              "a6f63206518448277c63c3a251ac13484784829cf2e1b0a23b0860dd32543520", "hifigan_expresso_lj_vctk_hubert_base_ls960_L9_km2000_expresso_styles.txt"),
               )),
        Bundle(name="mhubert-base-vp_mls_cv_8lang-kmeans-2000-hifigan", role="vocoder", format="hifigan", loader=load_hifigan, sample_rate=16000, frame_rate=50.0, vocab_size=2000, license=_TEXTLESSLIB,
               description="unit HiFi-GAN, Expresso+LJ+VCTK, speakers and styles",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/hifigan_expresso_lj_vctk_mhubert_base_vp_mls_cv_8lang_it3_L12_km2000/generator.pt",
                              "0d160c97519d3ed644e2ec636581b79e56767d60325308849fbb389a494c1466", "hifigan_expresso_lj_vctk_mhubert_base_vp_mls_cv_8lang_it3_L12_km2000_generator.pt"),
                   RemoteFile("config", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/hifigan_expresso_lj_vctk_mhubert_base_vp_mls_cv_8lang_it3_L12_km2000/config.json",
                              "73932563cedc43cd1dcddfab36ce3b2c3cb76eef3423d25d1fb536ce1ec513bb", "hifigan_expresso_lj_vctk_mhubert_base_vp_mls_cv_8lang_it3_L12_km2000_config.json"),
                   RemoteFile("speakers", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/hifigan_expresso_lj_vctk_mhubert_base_vp_mls_cv_8lang_it3_L12_km2000/speakers.txt",
                              "2efabb7a4ad786da34fe6fbe99c3906b7abd40b2e01c81b7efde76142ae3d552", "hifigan_expresso_lj_vctk_mhubert_base_vp_mls_cv_8lang_it3_L12_km2000_speakers.txt"),
                   RemoteFile("styles", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/hifigan_expresso_lj_vctk_mhubert_base_vp_mls_cv_8lang_it3_L12_km2000/styles.txt",
                              "a6f63206518448277c63c3a251ac13484784829cf2e1b0a23b0860dd32543520", "hifigan_expresso_lj_vctk_mhubert_base_vp_mls_cv_8lang_it3_L12_km2000_styles.txt"),
               )),
        Bundle(name="mhubert-base-vp_mls_cv_8lang-kmeans-expresso-2000-hifigan", role="vocoder", format="hifigan", loader=load_hifigan, sample_rate=16000, frame_rate=50.0, vocab_size=2000, license=_TEXTLESSLIB,
               description="unit HiFi-GAN, Expresso+LJ+VCTK, speakers and styles",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/hifigan_expresso_lj_vctk_mhubert_base_vp_mls_cv_8lang_it3_L12_km2000_expresso/generator.pt",
                              "8d1585f20edd9b0982f80acbb387a892adf19e4aa719b8dea795c8fa96285cbc", "hifigan_expresso_lj_vctk_mhubert_base_vp_mls_cv_8lang_it3_L12_km2000_expresso_generator.pt"),
                   RemoteFile("config", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/hifigan_expresso_lj_vctk_mhubert_base_vp_mls_cv_8lang_it3_L12_km2000_expresso/config.json",
                              "73932563cedc43cd1dcddfab36ce3b2c3cb76eef3423d25d1fb536ce1ec513bb", "hifigan_expresso_lj_vctk_mhubert_base_vp_mls_cv_8lang_it3_L12_km2000_expresso_config.json"),
                   RemoteFile("speakers", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/hifigan_expresso_lj_vctk_mhubert_base_vp_mls_cv_8lang_it3_L12_km2000_expresso/speakers.txt",
                              "2efabb7a4ad786da34fe6fbe99c3906b7abd40b2e01c81b7efde76142ae3d552", "hifigan_expresso_lj_vctk_mhubert_base_vp_mls_cv_8lang_it3_L12_km2000_expresso_speakers.txt"),
                   RemoteFile("styles", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/hifigan_expresso_lj_vctk_mhubert_base_vp_mls_cv_8lang_it3_L12_km2000_expresso/styles.txt",
                              "a6f63206518448277c63c3a251ac13484784829cf2e1b0a23b0860dd32543520", "hifigan_expresso_lj_vctk_mhubert_base_vp_mls_cv_8lang_it3_L12_km2000_expresso_styles.txt"),
               )),
        Bundle(name="cpc-big-ll6k", role="encoder", format="cpc", loader=load_cpc, sample_rate=16000, frame_rate=100.0, license=_TEXTLESSLIB,
               description="CPC big, Libri-light 6k h (GSLM; features of LSTM layer 2)",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/cpc/cpc_big_ll6kh_top_ctc.pt",
                              "73155dad5d7c986fe7b7f548050060a8e9cc9a0ffd111a22932f38c3e617c5b8", "cpc_big_ll6kh_top_ctc.pt"),
               )),
        Bundle(name="cpc-big-ll6k-kmeans-50", role="quantizer", format="kmeans", loader=load_kmeans, sample_rate=16000, frame_rate=100.0, layer=2, vocab_size=50, license=_TEXTLESSLIB,
               description="GSLM k-means 50 on CPC big layer 2",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/cpc/km50/km.bin",
                              "c48be5717aebc08169aa5165d58267449b8c8568624a346bb9f4b26eac3b0240", "cpc_big_ll6k_km50.pt"),
               )),
        Bundle(name="cpc-big-ll6k-kmeans-100", role="quantizer", format="kmeans", loader=load_kmeans, sample_rate=16000, frame_rate=100.0, layer=2, vocab_size=100, license=_TEXTLESSLIB,
               description="GSLM k-means 100 on CPC big layer 2",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/cpc/km100/km.bin",
                              "077b96e010b1e87be627ef2bef0f5e5cdaa1c01722aa363b2dc0bb6a638e8b26", "cpc_big_ll6k_km100.pt"),
               )),
        Bundle(name="cpc-big-ll6k-kmeans-200", role="quantizer", format="kmeans", loader=load_kmeans, sample_rate=16000, frame_rate=100.0, layer=2, vocab_size=200, license=_TEXTLESSLIB,
               description="GSLM k-means 200 on CPC big layer 2",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/cpc/km200/km.bin",
                              "2d863d1c6f251d19e667998248c87642ecb5e3ffaa410e9ebfa64341db4f6de2", "cpc_big_ll6k_km200.pt"),
               )),
        Bundle(name="cpc-big-ll6k-kmeans-500", role="quantizer", format="kmeans", loader=load_kmeans, sample_rate=16000, frame_rate=100.0, layer=2, vocab_size=500, license=_TEXTLESSLIB,
               description="GSLM k-means 500 on CPC big layer 2",
               files=(
                   RemoteFile("checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/cpc/km500/km.bin",
                              "35398f665dff06801a7bf1e595bc176711ed751d554e64d999dc42f1dd106561", "cpc_big_ll6k_km500.pt"),
               )),
    ] + gslm_bundles()


def official_bundles() -> list[Bundle]:
    """Component bundles of the official zoo, then the pipelines built from them."""
    components = component_bundles()
    c = {b.name: b for b in components}
    return components + [
        Bundle(name="hubert-base-ls960-l6-km50", role="pipeline", sample_rate=16000, frame_rate=50.0, layer=6,
               vocab_size=50, license=_TEXTLESSLIB, description="GSLM units: HuBERT base L6 + k-means 50",
               components=(c["hubert-base-ls960"], c["hubert-base-ls960-kmeans-50"],)),
        Bundle(name="hubert-base-ls960-l6-km100", role="pipeline", sample_rate=16000, frame_rate=50.0, layer=6,
               vocab_size=100, license=_TEXTLESSLIB, description="GSLM units: HuBERT base L6 + k-means 100",
               components=(c["hubert-base-ls960"], c["hubert-base-ls960-kmeans-100"],)),
        Bundle(name="hubert-base-ls960-l6-km200", role="pipeline", sample_rate=16000, frame_rate=50.0, layer=6,
               vocab_size=200, license=_TEXTLESSLIB, description="GSLM units: HuBERT base L6 + k-means 200",
               components=(c["hubert-base-ls960"], c["hubert-base-ls960-kmeans-200"],)),
        Bundle(name="hubert-base-ls960-l6-km500", role="pipeline", sample_rate=16000, frame_rate=50.0, layer=6,
               vocab_size=500, license=_TEXTLESSLIB, description="GSLM units: HuBERT base L6 + k-means 500",
               components=(c["hubert-base-ls960"], c["hubert-base-ls960-kmeans-500"],)),
        Bundle(name="hubert-base-ls960-l9-km500-hifigan", role="pipeline", sample_rate=16000, frame_rate=50.0, layer=9,
               vocab_size=500, license=_TEXTLESSLIB, description="HuBERT base L9 + k-means 500 + Expresso unit HiFi-GAN",
               components=(c["hubert-base-ls960"], c["hubert-base-ls960-layer-9-kmeans-500"], c["hubert-base-ls960-layer-9-kmeans-500-hifigan"],)),
        Bundle(name="hubert-base-ls960-l9-km2000-expresso-hifigan", role="pipeline", sample_rate=16000, frame_rate=50.0, layer=9,
               vocab_size=2000, license=_TEXTLESSLIB, description="HuBERT base L9 + Expresso k-means 2000 + unit HiFi-GAN",
               components=(c["hubert-base-ls960"], c["hubert-base-ls960-layer-9-kmeans-expresso-2000"], c["hubert-base-ls960-layer-9-kmeans-expresso-2000-hifigan"],)),
        Bundle(name="mhubert-base-vp_en_es_fr-l11-km1000", role="pipeline", sample_rate=16000, frame_rate=50.0, layer=11,
               vocab_size=1000, license=_FAIRSEQ, description="S2UT targets: mHuBERT en/es/fr L11 + k-means 1000",
               components=(c["mhubert-base-vp_en_es_fr"], c["mhubert-base-vp_en_es_fr-layer-11-kmeans-1000"],)),
        Bundle(name="mhubert-base-vp_mls_cv_8lang-l12-km2000-hifigan", role="pipeline", sample_rate=16000, frame_rate=50.0, layer=12,
               vocab_size=2000, license=_TEXTLESSLIB, description="mHuBERT 8lang L12 + k-means 2000 + unit HiFi-GAN",
               components=(c["mhubert-base-vp_mls_cv_8lang"], c["mhubert-base-vp_mls_cv_8lang-kmeans-2000"], c["mhubert-base-vp_mls_cv_8lang-kmeans-2000-hifigan"],)),
        Bundle(name="mhubert-base-vp_mls_cv_8lang-l12-km2000-expresso-hifigan", role="pipeline", sample_rate=16000, frame_rate=50.0, layer=12,
               vocab_size=2000, license=_TEXTLESSLIB, description="mHuBERT 8lang L12 + Expresso k-means 2000 + unit HiFi-GAN",
               components=(c["mhubert-base-vp_mls_cv_8lang"], c["mhubert-base-vp_mls_cv_8lang-kmeans-expresso-2000"], c["mhubert-base-vp_mls_cv_8lang-kmeans-expresso-2000-hifigan"],)),
        Bundle(name="mhubert-base-25hz-l11-km500-hifigan", role="pipeline", sample_rate=16000, frame_rate=25.0, layer=11,
               vocab_size=500, license=_TEXTLESSLIB, description="TWIST tokenizer: mHuBERT 25 Hz L11 + k-means 500 + unit HiFi-GAN (duration predictor)",
               components=(c["mhubert-base-25hz"], c["mhubert-base-25hz-kmeans-500"], c["mhubert-base-25hz-kmeans-500-hifigan"],)),
        Bundle(name="cpc-big-ll6k-km50", role="pipeline", sample_rate=16000, frame_rate=100.0, layer=2,
               vocab_size=50, license=_TEXTLESSLIB, description="GSLM units: CPC big L2 + k-means 50",
               components=(c["cpc-big-ll6k"], c["cpc-big-ll6k-kmeans-50"],)),
        Bundle(name="cpc-big-ll6k-km100", role="pipeline", sample_rate=16000, frame_rate=100.0, layer=2,
               vocab_size=100, license=_TEXTLESSLIB, description="GSLM units: CPC big L2 + k-means 100",
               components=(c["cpc-big-ll6k"], c["cpc-big-ll6k-kmeans-100"],)),
        Bundle(name="cpc-big-ll6k-km200", role="pipeline", sample_rate=16000, frame_rate=100.0, layer=2,
               vocab_size=200, license=_TEXTLESSLIB, description="GSLM units: CPC big L2 + k-means 200",
               components=(c["cpc-big-ll6k"], c["cpc-big-ll6k-kmeans-200"],)),
        Bundle(name="hubert-base-ls960-l6-km50-tacotron", role="pipeline", sample_rate=16000, frame_rate=50.0, layer=6,
               vocab_size=50, license=_TEXTLESSLIB, description="GSLM resynthesis: HuBERT base L6 + k-means 50 + Tacotron2/WaveGlow",
               components=(c["hubert-base-ls960"], c["hubert-base-ls960-kmeans-50"], c["hubert-base-ls960-kmeans-50-tacotron"],)),
        Bundle(name="hubert-base-ls960-l6-km100-tacotron", role="pipeline", sample_rate=16000, frame_rate=50.0, layer=6,
               vocab_size=100, license=_TEXTLESSLIB, description="GSLM resynthesis: HuBERT base L6 + k-means 100 + Tacotron2/WaveGlow",
               components=(c["hubert-base-ls960"], c["hubert-base-ls960-kmeans-100"], c["hubert-base-ls960-kmeans-100-tacotron"],)),
        Bundle(name="hubert-base-ls960-l6-km200-tacotron", role="pipeline", sample_rate=16000, frame_rate=50.0, layer=6,
               vocab_size=200, license=_TEXTLESSLIB, description="GSLM resynthesis: HuBERT base L6 + k-means 200 + Tacotron2/WaveGlow",
               components=(c["hubert-base-ls960"], c["hubert-base-ls960-kmeans-200"], c["hubert-base-ls960-kmeans-200-tacotron"],)),
        Bundle(name="cpc-big-ll6k-km50-tacotron", role="pipeline", sample_rate=16000, frame_rate=100.0, layer=2,
               vocab_size=50, license=_TEXTLESSLIB, description="GSLM resynthesis: CPC big L2 + k-means 50 + Tacotron2/WaveGlow",
               components=(c["cpc-big-ll6k"], c["cpc-big-ll6k-kmeans-50"], c["cpc-big-ll6k-kmeans-50-tacotron"],)),
        Bundle(name="cpc-big-ll6k-km100-tacotron", role="pipeline", sample_rate=16000, frame_rate=100.0, layer=2,
               vocab_size=100, license=_TEXTLESSLIB, description="GSLM resynthesis: CPC big L2 + k-means 100 + Tacotron2/WaveGlow",
               components=(c["cpc-big-ll6k"], c["cpc-big-ll6k-kmeans-100"], c["cpc-big-ll6k-kmeans-100-tacotron"],)),
        Bundle(name="cpc-big-ll6k-km200-tacotron", role="pipeline", sample_rate=16000, frame_rate=100.0, layer=2,
               vocab_size=200, license=_TEXTLESSLIB, description="GSLM resynthesis: CPC big L2 + k-means 200 + Tacotron2/WaveGlow",
               components=(c["cpc-big-ll6k"], c["cpc-big-ll6k-kmeans-200"], c["cpc-big-ll6k-kmeans-200-tacotron"],)),
        Bundle(name="gslm-hubert-km50", role="pipeline", sample_rate=16000, frame_rate=50.0, layer=6,
               vocab_size=50, license=_TEXTLESSLIB, description="GSLM: HuBERT base L6 + k-means 50 + unit LM + Tacotron2/WaveGlow",
               components=(c["hubert-base-ls960"], c["hubert-base-ls960-kmeans-50"], c["hubert-base-ls960-kmeans-50-ulm"], c["hubert-base-ls960-kmeans-50-tacotron"],)),
        Bundle(name="gslm-hubert-km100", role="pipeline", sample_rate=16000, frame_rate=50.0, layer=6,
               vocab_size=100, license=_TEXTLESSLIB, description="GSLM: HuBERT base L6 + k-means 100 + unit LM + Tacotron2/WaveGlow",
               components=(c["hubert-base-ls960"], c["hubert-base-ls960-kmeans-100"], c["hubert-base-ls960-kmeans-100-ulm"], c["hubert-base-ls960-kmeans-100-tacotron"],)),
        Bundle(name="gslm-hubert-km200", role="pipeline", sample_rate=16000, frame_rate=50.0, layer=6,
               vocab_size=200, license=_TEXTLESSLIB, description="GSLM: HuBERT base L6 + k-means 200 + unit LM + Tacotron2/WaveGlow",
               components=(c["hubert-base-ls960"], c["hubert-base-ls960-kmeans-200"], c["hubert-base-ls960-kmeans-200-ulm"], c["hubert-base-ls960-kmeans-200-tacotron"],)),
        Bundle(name="gslm-cpc-km50", role="pipeline", sample_rate=16000, frame_rate=100.0, layer=2,
               vocab_size=50, license=_TEXTLESSLIB, description="GSLM: CPC big L2 + k-means 50 + unit LM + Tacotron2/WaveGlow",
               components=(c["cpc-big-ll6k"], c["cpc-big-ll6k-kmeans-50"], c["cpc-big-ll6k-kmeans-50-ulm"], c["cpc-big-ll6k-kmeans-50-tacotron"],)),
        Bundle(name="gslm-cpc-km100", role="pipeline", sample_rate=16000, frame_rate=100.0, layer=2,
               vocab_size=100, license=_TEXTLESSLIB, description="GSLM: CPC big L2 + k-means 100 + unit LM + Tacotron2/WaveGlow",
               components=(c["cpc-big-ll6k"], c["cpc-big-ll6k-kmeans-100"], c["cpc-big-ll6k-kmeans-100-ulm"], c["cpc-big-ll6k-kmeans-100-tacotron"],)),
        Bundle(name="gslm-cpc-km200", role="pipeline", sample_rate=16000, frame_rate=100.0, layer=2,
               vocab_size=200, license=_TEXTLESSLIB, description="GSLM: CPC big L2 + k-means 200 + unit LM + Tacotron2/WaveGlow",
               components=(c["cpc-big-ll6k"], c["cpc-big-ll6k-kmeans-200"], c["cpc-big-ll6k-kmeans-200-ulm"], c["cpc-big-ll6k-kmeans-200-tacotron"],)),
        Bundle(name="logmel-km50", role="pipeline", sample_rate=16000, frame_rate=100.0,
               vocab_size=50, license=_FAIRSEQ, description="GSLM units: log-mel filterbanks + k-means 50",
               components=(c["logmel-fbank"], c["logmel-fbank-kmeans-50"],)),
        Bundle(name="logmel-km100", role="pipeline", sample_rate=16000, frame_rate=100.0,
               vocab_size=100, license=_FAIRSEQ, description="GSLM units: log-mel filterbanks + k-means 100",
               components=(c["logmel-fbank"], c["logmel-fbank-kmeans-100"],)),
        Bundle(name="logmel-km200", role="pipeline", sample_rate=16000, frame_rate=100.0,
               vocab_size=200, license=_FAIRSEQ, description="GSLM units: log-mel filterbanks + k-means 200",
               components=(c["logmel-fbank"], c["logmel-fbank-kmeans-200"],)),
        Bundle(name="logmel-km50-tacotron", role="pipeline", sample_rate=16000, frame_rate=100.0,
               vocab_size=50, license=_FAIRSEQ, description="GSLM resynthesis: log-mel filterbanks + k-means 50 + Tacotron2/WaveGlow",
               components=(c["logmel-fbank"], c["logmel-fbank-kmeans-50"], c["logmel-fbank-kmeans-50-tacotron"],)),
        Bundle(name="logmel-km100-tacotron", role="pipeline", sample_rate=16000, frame_rate=100.0,
               vocab_size=100, license=_FAIRSEQ, description="GSLM resynthesis: log-mel filterbanks + k-means 100 + Tacotron2/WaveGlow",
               components=(c["logmel-fbank"], c["logmel-fbank-kmeans-100"], c["logmel-fbank-kmeans-100-tacotron"],)),
        Bundle(name="logmel-km200-tacotron", role="pipeline", sample_rate=16000, frame_rate=100.0,
               vocab_size=200, license=_FAIRSEQ, description="GSLM resynthesis: log-mel filterbanks + k-means 200 + Tacotron2/WaveGlow",
               components=(c["logmel-fbank"], c["logmel-fbank-kmeans-200"], c["logmel-fbank-kmeans-200-tacotron"],)),
        Bundle(name="gslm-logmel-km50", role="pipeline", sample_rate=16000, frame_rate=100.0,
               vocab_size=50, license=_FAIRSEQ, description="GSLM: log-mel filterbanks + k-means 50 + unit LM + Tacotron2/WaveGlow",
               components=(c["logmel-fbank"], c["logmel-fbank-kmeans-50"], c["logmel-fbank-kmeans-50-ulm"], c["logmel-fbank-kmeans-50-tacotron"],)),
        Bundle(name="gslm-logmel-km100", role="pipeline", sample_rate=16000, frame_rate=100.0,
               vocab_size=100, license=_FAIRSEQ, description="GSLM: log-mel filterbanks + k-means 100 + unit LM + Tacotron2/WaveGlow",
               components=(c["logmel-fbank"], c["logmel-fbank-kmeans-100"], c["logmel-fbank-kmeans-100-ulm"], c["logmel-fbank-kmeans-100-tacotron"],)),
        Bundle(name="gslm-logmel-km200", role="pipeline", sample_rate=16000, frame_rate=100.0,
               vocab_size=200, license=_FAIRSEQ, description="GSLM: log-mel filterbanks + k-means 200 + unit LM + Tacotron2/WaveGlow",
               components=(c["logmel-fbank"], c["logmel-fbank-kmeans-200"], c["logmel-fbank-kmeans-200-ulm"], c["logmel-fbank-kmeans-200-tacotron"],)),
        Bundle(name="w2v2-large-km50", role="pipeline", sample_rate=16000, frame_rate=50.0, layer=15,
               vocab_size=50, license=_FAIRSEQ, description="GSLM units: wav2vec 2.0 Large L15 + k-means 50",
               components=(c["w2v2-large-lv60"], c["w2v2-large-lv60-kmeans-50"],)),
        Bundle(name="w2v2-large-km100", role="pipeline", sample_rate=16000, frame_rate=50.0, layer=15,
               vocab_size=100, license=_FAIRSEQ, description="GSLM units: wav2vec 2.0 Large L15 + k-means 100",
               components=(c["w2v2-large-lv60"], c["w2v2-large-lv60-kmeans-100"],)),
        Bundle(name="w2v2-large-km200", role="pipeline", sample_rate=16000, frame_rate=50.0, layer=15,
               vocab_size=200, license=_FAIRSEQ, description="GSLM units: wav2vec 2.0 Large L15 + k-means 200",
               components=(c["w2v2-large-lv60"], c["w2v2-large-lv60-kmeans-200"],)),
        Bundle(name="w2v2-large-km50-tacotron", role="pipeline", sample_rate=16000, frame_rate=50.0, layer=15,
               vocab_size=50, license=_FAIRSEQ, description="GSLM resynthesis: wav2vec 2.0 Large L15 + k-means 50 + Tacotron2/WaveGlow",
               components=(c["w2v2-large-lv60"], c["w2v2-large-lv60-kmeans-50"], c["w2v2-large-lv60-kmeans-50-tacotron"],)),
        Bundle(name="w2v2-large-km100-tacotron", role="pipeline", sample_rate=16000, frame_rate=50.0, layer=15,
               vocab_size=100, license=_FAIRSEQ, description="GSLM resynthesis: wav2vec 2.0 Large L15 + k-means 100 + Tacotron2/WaveGlow",
               components=(c["w2v2-large-lv60"], c["w2v2-large-lv60-kmeans-100"], c["w2v2-large-lv60-kmeans-100-tacotron"],)),
        Bundle(name="w2v2-large-km200-tacotron", role="pipeline", sample_rate=16000, frame_rate=50.0, layer=15,
               vocab_size=200, license=_FAIRSEQ, description="GSLM resynthesis: wav2vec 2.0 Large L15 + k-means 200 + Tacotron2/WaveGlow",
               components=(c["w2v2-large-lv60"], c["w2v2-large-lv60-kmeans-200"], c["w2v2-large-lv60-kmeans-200-tacotron"],)),
        Bundle(name="gslm-w2v2-km50", role="pipeline", sample_rate=16000, frame_rate=50.0, layer=15,
               vocab_size=50, license=_FAIRSEQ, description="GSLM: wav2vec 2.0 Large L15 + k-means 50 + unit LM + Tacotron2/WaveGlow",
               components=(c["w2v2-large-lv60"], c["w2v2-large-lv60-kmeans-50"], c["w2v2-large-lv60-kmeans-50-ulm"], c["w2v2-large-lv60-kmeans-50-tacotron"],)),
        Bundle(name="gslm-w2v2-km100", role="pipeline", sample_rate=16000, frame_rate=50.0, layer=15,
               vocab_size=100, license=_FAIRSEQ, description="GSLM: wav2vec 2.0 Large L15 + k-means 100 + unit LM + Tacotron2/WaveGlow",
               components=(c["w2v2-large-lv60"], c["w2v2-large-lv60-kmeans-100"], c["w2v2-large-lv60-kmeans-100-ulm"], c["w2v2-large-lv60-kmeans-100-tacotron"],)),
        Bundle(name="gslm-w2v2-km200", role="pipeline", sample_rate=16000, frame_rate=50.0, layer=15,
               vocab_size=200, license=_FAIRSEQ, description="GSLM: wav2vec 2.0 Large L15 + k-means 200 + unit LM + Tacotron2/WaveGlow",
               components=(c["w2v2-large-lv60"], c["w2v2-large-lv60-kmeans-200"], c["w2v2-large-lv60-kmeans-200-ulm"], c["w2v2-large-lv60-kmeans-200-tacotron"],)),
        Bundle(name="hubert-base-ls960-l6-km100-hifigan-lj", role="pipeline", sample_rate=16000, frame_rate=50.0, layer=6,
               vocab_size=100, license=_FAIRSEQ, description="HuBERT base L6 + k-means 100 + S2UT unit HiFi-GAN (LJSpeech)",
               components=(c["hubert-base-ls960"], c["hubert-base-ls960-kmeans-100"], c["hubert-base-ls960-kmeans-100-hifigan-lj"],)),
        Bundle(name="mhubert-base-vp_en_es_fr-l11-km1000-hifigan-lj", role="pipeline", sample_rate=16000, frame_rate=50.0, layer=11,
               vocab_size=1000, license=_FAIRSEQ, description="S2UT units + unit HiFi-GAN (lj): mHuBERT en/es/fr L11 + k-means 1000",
               components=(c["mhubert-base-vp_en_es_fr"], c["mhubert-base-vp_en_es_fr-layer-11-kmeans-1000"], c["mhubert-base-vp_en_es_fr-layer-11-kmeans-1000-hifigan-lj"],)),
        Bundle(name="mhubert-base-vp_en_es_fr-l11-km1000-hifigan-es-css10", role="pipeline", sample_rate=16000, frame_rate=50.0, layer=11,
               vocab_size=1000, license=_FAIRSEQ, description="S2UT units + unit HiFi-GAN (es-css10): mHuBERT en/es/fr L11 + k-means 1000",
               components=(c["mhubert-base-vp_en_es_fr"], c["mhubert-base-vp_en_es_fr-layer-11-kmeans-1000"], c["mhubert-base-vp_en_es_fr-layer-11-kmeans-1000-hifigan-es-css10"],)),
        Bundle(name="mhubert-base-vp_en_es_fr-l11-km1000-hifigan-fr-css10", role="pipeline", sample_rate=16000, frame_rate=50.0, layer=11,
               vocab_size=1000, license=_FAIRSEQ, description="S2UT units + unit HiFi-GAN (fr-css10): mHuBERT en/es/fr L11 + k-means 1000",
               components=(c["mhubert-base-vp_en_es_fr"], c["mhubert-base-vp_en_es_fr-layer-11-kmeans-1000"], c["mhubert-base-vp_en_es_fr-layer-11-kmeans-1000-hifigan-fr-css10"],)),
    ]


def packaged_bundles() -> list[Bundle]:
    """Pipeline folders shipped in ``textless/assets/<name>/`` (the embedded default)."""
    out = []
    for spec_path in sorted((Path(__file__).parent / "assets").glob("*/pipeline.json")):
        spec = json.loads(spec_path.read_text())
        rel = spec_path.relative_to(Path(__file__).parent).as_posix()
        out.append(Bundle(
            name=spec_path.parent.name, role="pipeline",
            description=spec.get("description", "pipeline shipped with textless"),
            files=(RemoteFile("pipeline", f"{PACKAGE_PREFIX}{rel}", None, rel),),
            sample_rate=spec.get("sample_rate"), frame_rate=spec.get("frame_rate"),
            layer=spec.get("layer"), vocab_size=spec.get("vocab_size"),
            license=spec.get("license", "MIT"), source="package",
        ))
    return out
