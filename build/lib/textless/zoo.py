"""The official textless model zoo (facts from shared/reference/model_zoo.md) and our pipelines.

Every official file is listed with its URL and sha256. Auxiliary files (vocoder config,
speakers, styles; Tacotron code dictionaries) belong to the bundle they serve, under a role.
"""

from __future__ import annotations

from .hub import Bundle, RemoteFile

HUBERT = "textless.encoders.hubert:load_bundle"
KMEANS = "textless.quantizers.kmeans:load_bundle"
VOCODER = "textless.vocoders.checkpoint:load_bundle"
PIPELINE = "textless.pipeline:load_bundle"

# (bundle, role, url, sha256, cache file name)
_FILES = (
    ("hubert-base-ls960", "checkpoint", "https://dl.fbaipublicfiles.com/hubert/hubert_base_ls960.pt",
     "1703cf8d2cdc76f8c046f5f6a9bcd224e0e6caf4744cad1a1f4199c32cac8c8d", "hubert_base_ls960.pt"),
    ("mhubert-base-vp_en_es_fr", "checkpoint", "https://dl.fbaipublicfiles.com/hubert/mhubert_base_vp_en_es_fr_it3.pt",
     "23527cd6311a6617bfa199f574e2eed478cd6a58a634f4007165c10ec0019832", "mhubert_base_vp_en_es_fr_it3.pt"),
    ("mhubert-base-vp_mls_cv_8lang", "checkpoint", "https://dl.fbaipublicfiles.com/hubert/mhubert_base_vp_mls_cv_8lang_it3.pt",
     "fa82eaccb557465f4732662e3a744c30c953059147ac6a4c92f1f3e0daeda61e", "mhubert_base_vp_mls_cv_8lang_it3.pt"),
    ("mhubert-base-25hz", "checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/twist/speech_tokenizer/mhubert_base_25hz_cp_mls_cv_sp_fisher.pt",
     "edf0f5be2581a568a236aeb2781a5607c5af25806e12f40f7f2391e861fe3cf0", "mhubert_base_25hz_cp_mls_cv_sp_fisher.pt"),
    ("hubert-base-ls960-kmeans-50", "checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/hubert/km50/km.bin",
     "d01a7d5bc2c54b7b5f25f321ba525b4d230b06e3927f90bad0394198bc89f494", "hubert_base_ls960_km50.pt"),
    ("hubert-base-ls960-kmeans-100", "checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/hubert/km100/km.bin",
     "f14a3104615485381fc489701d6761c9abbdbb0d43607cf55518a1e2891023fe", "hubert_base_ls960_km100.pt"),
    ("hubert-base-ls960-kmeans-200", "checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/hubert/km200/km.bin",
     "b3c46c9cdd1707ad852dd53c359aa73942e79d53c432a9a8a419ed046408024b", "hubert_base_ls960_km200.pt"),
    ("hubert-base-ls960-kmeans-500", "checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/hubert/km500/km.bin",
     "411c8668e1314751404f58636f935fc73540a6793890435da4a8ffadf157398e", "hubert_base_ls960_km500.pt"),
    ("mhubert-base-vp_en_es_fr-layer-11-kmeans-1000", "checkpoint", "https://dl.fbaipublicfiles.com/hubert/mhubert_base_vp_en_es_fr_it3_L11_km1000.bin",
     "c70f5416c38044d0c20e33fdeedf4533974a8ac4029985cdef3b755038381a0b", "mhubert_base_vp_en_es_fr_it3_L11_km1000.bin"),
    ("hubert-base-ls960-layer-9-kmeans-500", "checkpoint", "https://dl.fbaipublicfiles.com/hubert/hubert_base_ls960_L9_km500.bin",
     "4450dcbc90aa7d0553306a4b0fafef35c9b3c840468f02969273dfbb9db89a23", "hubert_base_ls960_L9_km500.pt"),
    ("hubert-base-ls960-layer-9-kmeans-expresso-2000", "checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/hubert_base_ls960_L9_km2000_expresso.bin",
     "ae73e3cc7ea0426faf43c8bb67fc3846a0f8708232526d045a101836e8c7929f", "hubert_base_ls960_L9_km2000_expresso.pt"),
    ("mhubert-base-vp_mls_cv_8lang-kmeans-2000", "checkpoint", "https://dl.fbaipublicfiles.com/hubert/mhubert_base_vp_mls_cv_8lang_it3_L12_km2000.bin",
     "05de230870427dcdce334d29922ccce354c7e7d0574edc645f5daed47b1ccc18", "mhubert_base_vp_mls_cv_8lang_it3_L12_km2000.pt"),
    ("mhubert-base-vp_mls_cv_8lang-kmeans-expresso-2000", "checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/mhubert_base_vp_mls_cv_8lang_it3_L12_km2000_expresso.bin",
     "bda2dbf5fe42bf59359799b281498a9d7fd0a9ec703d6dc54a4a4a0ff70a4e22", "mhubert_base_vp_mls_cv_8lang_it3_L12_km2000_expresso.pt"),
    ("mhubert-base-25hz-kmeans-500", "checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/twist/speech_tokenizer/mhubert_base_25hz_cp_mls_cv_sp_fisher_L11_km500.bin",
     "03cc04a9c24fec4285e73e709c485756d8f116aa8e724eac555de6a7cf8d28ad", "mhubert_base_25hz_cp_mls_cv_sp_fisher_L11_km500.bin"),
    ("hubert-base-ls960-kmeans-50-tacotron", "checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/hubert/tts_km50/tts_checkpoint_best.pt",
     "335e881a897cfa3389804110de8ac3909159d4de395880fbf1d3167a9477451e", "hubert_base_ls960_kmeans_50_tacotron.pt"),
    ("hubert-base-ls960-kmeans-100-tacotron", "checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/hubert/tts_km100/tts_checkpoint_best.pt",
     "b208f8d6433eb5524405aa29d2b5fdacddb63a182d9830b629232e63b3543e4d", "hubert_base_ls960_kmeans_100_tacotron.pt"),
    ("hubert-base-ls960-kmeans-200-tacotron", "checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/hubert/tts_km200/tts_checkpoint_best.pt",
     "093f009935a4dadd692db85e859246e369cb17be3aecd22038fb70af4d5b0590", "hubert_base_ls960_kmeans_200_tacotron.pt"),
    ("hubert-base-ls960-kmeans-50-tacotron", "codes", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/hubert/tts_km50/code_dict",
     "5f01dd57fd3b4044fac93aaac2589bf49e34cbe1dc0713254c0f339ba2123bce", "hubert_base_ls960_kmeans_50_tacotron_codes.pt"),
    ("hubert-base-ls960-kmeans-100-tacotron", "codes", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/hubert/tts_km100/code_dict",
     "6d506216aa5bad159f167e2535293b4e5ec8e1073b64449d30b66b460ebf6da0", "hubert_base_ls960_kmeans_100_tacotron_codes.pt"),
    ("hubert-base-ls960-kmeans-200-tacotron", "codes", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/hubert/tts_km200/code_dict",
     "ea01ba3592e27c871b63b32e37d6532234edf7eee7077bdcc094061ee72922e6", "hubert_base_ls960_kmeans_200_tacotron_codes.pt"),
    ("mhubert-base-25hz-kmeans-500-hifigan", "checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/twist/speech_tokenizer/hifigan_lj_mhubert_base_25hz.pt",
     "d88224e95c501e2cd59a6e4014753169cfe060fb7ade3cc0da03c809fef73b79", "hifigan_lj_mhubert_base_25hz.pt"),
    ("mhubert-base-25hz-kmeans-500-hifigan", "config", "https://dl.fbaipublicfiles.com/textless_nlp/twist/speech_tokenizer/hifigan_lj_mhubert_base_25hz_config.json",
     "116dc39be4970cd393e562acd0a0ec70a86aaba7e9ca469b8b836cb3fe46afc7", "hifigan_lj_mhubert_base_25hz_config.json"),
    ("hubert-base-ls960-layer-9-kmeans-500-hifigan", "checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/hifigan_expresso_lj_vctk_hubert_base_ls960_L9_km500/generator.pt",
     "d50f4704e961c29cb386924ef32cd0c3a4d1089a3f9be856f8a3b6dcfdd6147a", "hifigan_expresso_lj_vctk_hubert_base_ls960_L9_km500_generator.pt"),
    ("hubert-base-ls960-layer-9-kmeans-500-hifigan", "config", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/hifigan_expresso_lj_vctk_hubert_base_ls960_L9_km500/config.json",
     "31e65ef5e100cb43de08f2c8d225496ace1ed87a49fcb8ee44bd6805f079b1f0", "hifigan_expresso_lj_vctk_hubert_base_ls960_L9_km500_config.json"),
    ("hubert-base-ls960-layer-9-kmeans-500-hifigan", "speakers", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/hifigan_expresso_lj_vctk_hubert_base_ls960_L9_km500/speakers.txt",
     "2efabb7a4ad786da34fe6fbe99c3906b7abd40b2e01c81b7efde76142ae3d552", "hifigan_expresso_lj_vctk_hubert_base_ls960_L9_km500_speakers.txt"),
    ("hubert-base-ls960-layer-9-kmeans-500-hifigan", "styles", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/hifigan_expresso_lj_vctk_hubert_base_ls960_L9_km500/styles.txt",
     "a6f63206518448277c63c3a251ac13484784829cf2e1b0a23b0860dd32543520", "hifigan_expresso_lj_vctk_hubert_base_ls960_L9_km500_styles.txt"),
    ("hubert-base-ls960-layer-9-kmeans-expresso-2000-hifigan", "checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/hifigan_expresso_lj_vctk_hubert_base_ls960_L9_km2000_expresso/generator.pt",
     "b892fdcca889f4bc6d7f0a0f407ae5d01eca8aaa66b9be333ef33a1c50f2ef52", "hifigan_expresso_lj_vctk_hubert_base_ls960_L9_km2000_expresso_generator.pt"),
    ("hubert-base-ls960-layer-9-kmeans-expresso-2000-hifigan", "config", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/hifigan_expresso_lj_vctk_hubert_base_ls960_L9_km2000_expresso/config.json",
     "73932563cedc43cd1dcddfab36ce3b2c3cb76eef3423d25d1fb536ce1ec513bb", "hifigan_expresso_lj_vctk_hubert_base_ls960_L9_km2000_expresso_config.json"),
    ("hubert-base-ls960-layer-9-kmeans-expresso-2000-hifigan", "speakers", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/hifigan_expresso_lj_vctk_hubert_base_ls960_L9_km2000_expresso/speakers.txt",
     "2efabb7a4ad786da34fe6fbe99c3906b7abd40b2e01c81b7efde76142ae3d552", "hifigan_expresso_lj_vctk_hubert_base_ls960_L9_km2000_expresso_speakers.txt"),
    ("hubert-base-ls960-layer-9-kmeans-expresso-2000-hifigan", "styles", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/hifigan_expresso_lj_vctk_hubert_base_ls960_L9_km2000_expresso/styles.txt",
     "a6f63206518448277c63c3a251ac13484784829cf2e1b0a23b0860dd32543520", "hifigan_expresso_lj_vctk_hubert_base_ls960_L9_km2000_expresso_styles.txt"),
    ("mhubert-base-vp_mls_cv_8lang-kmeans-2000-hifigan", "checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/hifigan_expresso_lj_vctk_mhubert_base_vp_mls_cv_8lang_it3_L12_km2000/generator.pt",
     "0d160c97519d3ed644e2ec636581b79e56767d60325308849fbb389a494c1466", "hifigan_expresso_lj_vctk_mhubert_base_vp_mls_cv_8lang_it3_L12_km2000_generator.pt"),
    ("mhubert-base-vp_mls_cv_8lang-kmeans-2000-hifigan", "config", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/hifigan_expresso_lj_vctk_mhubert_base_vp_mls_cv_8lang_it3_L12_km2000/config.json",
     "73932563cedc43cd1dcddfab36ce3b2c3cb76eef3423d25d1fb536ce1ec513bb", "hifigan_expresso_lj_vctk_mhubert_base_vp_mls_cv_8lang_it3_L12_km2000_config.json"),
    ("mhubert-base-vp_mls_cv_8lang-kmeans-2000-hifigan", "speakers", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/hifigan_expresso_lj_vctk_mhubert_base_vp_mls_cv_8lang_it3_L12_km2000/speakers.txt",
     "2efabb7a4ad786da34fe6fbe99c3906b7abd40b2e01c81b7efde76142ae3d552", "hifigan_expresso_lj_vctk_mhubert_base_vp_mls_cv_8lang_it3_L12_km2000_speakers.txt"),
    ("mhubert-base-vp_mls_cv_8lang-kmeans-2000-hifigan", "styles", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/hifigan_expresso_lj_vctk_mhubert_base_vp_mls_cv_8lang_it3_L12_km2000/styles.txt",
     "a6f63206518448277c63c3a251ac13484784829cf2e1b0a23b0860dd32543520", "hifigan_expresso_lj_vctk_mhubert_base_vp_mls_cv_8lang_it3_L12_km2000_styles.txt"),
    ("mhubert-base-vp_mls_cv_8lang-kmeans-expresso-2000-hifigan", "checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/hifigan_expresso_lj_vctk_mhubert_base_vp_mls_cv_8lang_it3_L12_km2000_expresso/generator.pt",
     "8d1585f20edd9b0982f80acbb387a892adf19e4aa719b8dea795c8fa96285cbc", "hifigan_expresso_lj_vctk_mhubert_base_vp_mls_cv_8lang_it3_L12_km2000_expresso_generator.pt"),
    ("mhubert-base-vp_mls_cv_8lang-kmeans-expresso-2000-hifigan", "config", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/hifigan_expresso_lj_vctk_mhubert_base_vp_mls_cv_8lang_it3_L12_km2000_expresso/config.json",
     "73932563cedc43cd1dcddfab36ce3b2c3cb76eef3423d25d1fb536ce1ec513bb", "hifigan_expresso_lj_vctk_mhubert_base_vp_mls_cv_8lang_it3_L12_km2000_expresso_config.json"),
    ("mhubert-base-vp_mls_cv_8lang-kmeans-expresso-2000-hifigan", "speakers", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/hifigan_expresso_lj_vctk_mhubert_base_vp_mls_cv_8lang_it3_L12_km2000_expresso/speakers.txt",
     "2efabb7a4ad786da34fe6fbe99c3906b7abd40b2e01c81b7efde76142ae3d552", "hifigan_expresso_lj_vctk_mhubert_base_vp_mls_cv_8lang_it3_L12_km2000_expresso_speakers.txt"),
    ("mhubert-base-vp_mls_cv_8lang-kmeans-expresso-2000-hifigan", "styles", "https://dl.fbaipublicfiles.com/textless_nlp/expresso/checkpoints/hifigan_expresso_lj_vctk_mhubert_base_vp_mls_cv_8lang_it3_L12_km2000_expresso/styles.txt",
     "a6f63206518448277c63c3a251ac13484784829cf2e1b0a23b0860dd32543520", "hifigan_expresso_lj_vctk_mhubert_base_vp_mls_cv_8lang_it3_L12_km2000_expresso_styles.txt"),
    ("cpc-big-ll6k", "checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/cpc/cpc_big_ll6kh_top_ctc.pt",
     "73155dad5d7c986fe7b7f548050060a8e9cc9a0ffd111a22932f38c3e617c5b8", "cpc_big_ll6kh_top_ctc.pt"),
    ("cpc-big-ll6k-kmeans-50", "checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/cpc/km50/km.bin",
     "c48be5717aebc08169aa5165d58267449b8c8568624a346bb9f4b26eac3b0240", "cpc_big_ll6k_km50.pt"),
    ("cpc-big-ll6k-kmeans-100", "checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/cpc/km100/km.bin",
     "077b96e010b1e87be627ef2bef0f5e5cdaa1c01722aa363b2dc0bb6a638e8b26", "cpc_big_ll6k_km100.pt"),
    ("cpc-big-ll6k-kmeans-200", "checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/cpc/km200/km.bin",
     "2d863d1c6f251d19e667998248c87642ecb5e3ffaa410e9ebfa64341db4f6de2", "cpc_big_ll6k_km200.pt"),
    ("cpc-big-ll6k-kmeans-500", "checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/cpc/km500/km.bin",
     "35398f665dff06801a7bf1e595bc176711ed751d554e64d999dc42f1dd106561", "cpc_big_ll6k_km500.pt"),
    ("cpc-big-ll6k-kmeans-50-tacotron", "checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/cpc/tts_km50/tts_checkpoint_best.pt",
     "e80a46561d1ded73bbe6e7272fcd6b9943fb7607229040b06324f654b66396fd", "cpc_big_ll6k_kmeans_50_tacotron.pt"),
    ("cpc-big-ll6k-kmeans-100-tacotron", "checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/cpc/tts_km100/tts_checkpoint_best.pt",
     "6cfe1ce4bbdfd0f531189f4013cefc9e1296aec62f8bc0172d68d088ab344a50", "cpc_big_ll6k_kmeans_100_tacotron.pt"),
    ("cpc-big-ll6k-kmeans-200-tacotron", "checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/cpc/tts_km200/tts_checkpoint_best.pt",
     "5845b1c0a82d9176b9d8c33a32f098795c946077e741a9da2b665bafda17b7ff", "cpc_big_ll6k_kmeans_200_tacotron.pt"),
    ("cpc-big-ll6k-kmeans-50-tacotron", "codes", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/cpc/tts_km50/code_dict",
     "5f01dd57fd3b4044fac93aaac2589bf49e34cbe1dc0713254c0f339ba2123bce", "cpc_big_ll6k_kmeans_50_tacotron_codes.pt"),
    ("cpc-big-ll6k-kmeans-100-tacotron", "codes", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/cpc/tts_km100/code_dict",
     "a343085a83c1acfc96a2bfecf5098b380e860cdbb832cbcbbb0bf1358bd7c932", "cpc_big_ll6k_kmeans_100_tacotron_codes.pt"),
    ("cpc-big-ll6k-kmeans-200-tacotron", "codes", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/cpc/tts_km200/code_dict",
     "48dae50f9f2d4561c4a84fa09ba748395808d7d3323b1d5754af71669117e2aa", "cpc_big_ll6k_kmeans_200_tacotron_codes.pt"),
    ("waveglow", "checkpoint", "https://dl.fbaipublicfiles.com/textless_nlp/gslm/waveglow_256channels_standalone.pt",
     "f383c7fd785502fc6a6bffd604fc14cb35d6155cdde30c53faaaeafa8a904dab", "waveglow_256channels_standalone.pt"),)

_FAIRSEQ = "MIT (fairseq release)"
_TEXTLESSLIB = "upstream terms (textlesslib release)"

# name -> (kind, description, loader, frame_rate, layer, vocab_size, license)
_META = {
    "hubert-base-ls960": ("encoder", "HuBERT base, LibriSpeech 960 h (fairseq)", HUBERT, 50.0, None, None, _FAIRSEQ),
    "mhubert-base-vp_en_es_fr": ("encoder", "mHuBERT base, VoxPopuli en/es/fr, iteration 3", HUBERT, 50.0, None, None, _FAIRSEQ),
    "mhubert-base-vp_mls_cv_8lang": ("encoder", "mHuBERT base, 8 languages, iteration 3", HUBERT, 50.0, None, None, _FAIRSEQ),
    "mhubert-base-25hz": ("encoder", "mHuBERT base at 25 Hz (TWIST tokenizer)", HUBERT, 25.0, None, None, _TEXTLESSLIB),
    "hubert-base-ls960-kmeans-50": ("quantizer", "GSLM k-means 50 on HuBERT base L6", KMEANS, 50.0, 6, 50, _TEXTLESSLIB),
    "hubert-base-ls960-kmeans-100": ("quantizer", "GSLM k-means 100 on HuBERT base L6", KMEANS, 50.0, 6, 100, _TEXTLESSLIB),
    "hubert-base-ls960-kmeans-200": ("quantizer", "GSLM k-means 200 on HuBERT base L6", KMEANS, 50.0, 6, 200, _TEXTLESSLIB),
    "hubert-base-ls960-kmeans-500": ("quantizer", "GSLM k-means 500 on HuBERT base L6", KMEANS, 50.0, 6, 500, _TEXTLESSLIB),
    "mhubert-base-vp_en_es_fr-layer-11-kmeans-1000": ("quantizer", "k-means 1000 on mHuBERT en/es/fr L11 (S2UT)", KMEANS, 50.0, 11, 1000, _FAIRSEQ),
    "hubert-base-ls960-layer-9-kmeans-500": ("quantizer", "k-means 500 on HuBERT base L9", KMEANS, 50.0, 9, 500, _TEXTLESSLIB),
    "hubert-base-ls960-layer-9-kmeans-expresso-2000": ("quantizer", "k-means 2000 on HuBERT base L9 (Expresso)", KMEANS, 50.0, 9, 2000, _TEXTLESSLIB),
    "mhubert-base-vp_mls_cv_8lang-kmeans-2000": ("quantizer", "k-means 2000 on mHuBERT 8lang L12", KMEANS, 50.0, 12, 2000, _TEXTLESSLIB),
    "mhubert-base-vp_mls_cv_8lang-kmeans-expresso-2000": ("quantizer", "k-means 2000 on mHuBERT 8lang L12 (Expresso)", KMEANS, 50.0, 12, 2000, _TEXTLESSLIB),
    "mhubert-base-25hz-kmeans-500": ("quantizer", "k-means 500 on mHuBERT 25 Hz L11", KMEANS, 25.0, 11, 500, _TEXTLESSLIB),
    "hubert-base-ls960-kmeans-50-tacotron": ("tts", "GSLM Tacotron2 unit-to-speech (km50); not supported, download only", None, 50.0, None, 50, _TEXTLESSLIB),
    "hubert-base-ls960-kmeans-100-tacotron": ("tts", "GSLM Tacotron2 unit-to-speech (km100); not supported, download only", None, 50.0, None, 100, _TEXTLESSLIB),
    "hubert-base-ls960-kmeans-200-tacotron": ("tts", "GSLM Tacotron2 unit-to-speech (km200); not supported, download only", None, 50.0, None, 200, _TEXTLESSLIB),
    "mhubert-base-25hz-kmeans-500-hifigan": ("vocoder", "unit HiFi-GAN, LJSpeech, duration predictor (TWIST)", VOCODER, 25.0, None, 500, _TEXTLESSLIB),
    "hubert-base-ls960-layer-9-kmeans-500-hifigan": ("vocoder", "unit HiFi-GAN, Expresso+LJ+VCTK, speakers and styles", VOCODER, 50.0, None, 500, _TEXTLESSLIB),
    "hubert-base-ls960-layer-9-kmeans-expresso-2000-hifigan": ("vocoder", "unit HiFi-GAN, Expresso+LJ+VCTK, speakers and styles", VOCODER, 50.0, None, 2000, _TEXTLESSLIB),
    "mhubert-base-vp_mls_cv_8lang-kmeans-2000-hifigan": ("vocoder", "unit HiFi-GAN, Expresso+LJ+VCTK, speakers and styles", VOCODER, 50.0, None, 2000, _TEXTLESSLIB),
    "mhubert-base-vp_mls_cv_8lang-kmeans-expresso-2000-hifigan": ("vocoder", "unit HiFi-GAN, Expresso+LJ+VCTK, speakers and styles", VOCODER, 50.0, None, 2000, _TEXTLESSLIB),
    "cpc-big-ll6k": ("encoder", "CPC big, Libri-light 6k h; not supported, download only", None, 100.0, None, None, _TEXTLESSLIB),
    "cpc-big-ll6k-kmeans-50": ("quantizer", "GSLM k-means 50 on CPC big layer 2", KMEANS, 100.0, 2, 50, _TEXTLESSLIB),
    "cpc-big-ll6k-kmeans-100": ("quantizer", "GSLM k-means 100 on CPC big layer 2", KMEANS, 100.0, 2, 100, _TEXTLESSLIB),
    "cpc-big-ll6k-kmeans-200": ("quantizer", "GSLM k-means 200 on CPC big layer 2", KMEANS, 100.0, 2, 200, _TEXTLESSLIB),
    "cpc-big-ll6k-kmeans-500": ("quantizer", "GSLM k-means 500 on CPC big layer 2", KMEANS, 100.0, 2, 500, _TEXTLESSLIB),
    "cpc-big-ll6k-kmeans-50-tacotron": ("tts", "GSLM Tacotron2 on CPC km50; not supported, download only", None, 100.0, None, 50, _TEXTLESSLIB),
    "cpc-big-ll6k-kmeans-100-tacotron": ("tts", "GSLM Tacotron2 on CPC km100; not supported, download only", None, 100.0, None, 100, _TEXTLESSLIB),
    "cpc-big-ll6k-kmeans-200-tacotron": ("tts", "GSLM Tacotron2 on CPC km200; not supported, download only", None, 100.0, None, 200, _TEXTLESSLIB),
    "waveglow": ("tts", "WaveGlow 256 channels (GSLM Tacotron2 vocoder); not supported, download only", None, None, None, None, _TEXTLESSLIB),
}

# Pipelines: name -> (description, encoder, layer, quantizer, vocoder or None)
_PIPELINES = {
    **{
        f"hubert-base-ls960-l6-km{k}": (
            f"GSLM units: HuBERT base L6 + k-means {k}", "hubert-base-ls960", 6,
            f"hubert-base-ls960-kmeans-{k}", None,
        )
        for k in (50, 100, 200, 500)
    },
    "hubert-base-ls960-l9-km500-hifigan": (
        "HuBERT base L9 + k-means 500 + Expresso unit HiFi-GAN", "hubert-base-ls960", 9,
        "hubert-base-ls960-layer-9-kmeans-500", "hubert-base-ls960-layer-9-kmeans-500-hifigan",
    ),
    "hubert-base-ls960-l9-km2000-expresso-hifigan": (
        "HuBERT base L9 + Expresso k-means 2000 + unit HiFi-GAN", "hubert-base-ls960", 9,
        "hubert-base-ls960-layer-9-kmeans-expresso-2000",
        "hubert-base-ls960-layer-9-kmeans-expresso-2000-hifigan",
    ),
    "mhubert-base-vp_en_es_fr-l11-km1000": (
        "S2UT targets: mHuBERT en/es/fr L11 + k-means 1000", "mhubert-base-vp_en_es_fr", 11,
        "mhubert-base-vp_en_es_fr-layer-11-kmeans-1000", None,
    ),
    "mhubert-base-vp_mls_cv_8lang-l12-km2000-hifigan": (
        "mHuBERT 8lang L12 + k-means 2000 + unit HiFi-GAN", "mhubert-base-vp_mls_cv_8lang", 12,
        "mhubert-base-vp_mls_cv_8lang-kmeans-2000", "mhubert-base-vp_mls_cv_8lang-kmeans-2000-hifigan",
    ),
    "mhubert-base-vp_mls_cv_8lang-l12-km2000-expresso-hifigan": (
        "mHuBERT 8lang L12 + Expresso k-means 2000 + unit HiFi-GAN", "mhubert-base-vp_mls_cv_8lang", 12,
        "mhubert-base-vp_mls_cv_8lang-kmeans-expresso-2000",
        "mhubert-base-vp_mls_cv_8lang-kmeans-expresso-2000-hifigan",
    ),
    "mhubert-base-25hz-l11-km500-hifigan": (
        "TWIST tokenizer: mHuBERT 25 Hz L11 + k-means 500 + unit HiFi-GAN (duration predictor)",
        "mhubert-base-25hz", 11, "mhubert-base-25hz-kmeans-500", "mhubert-base-25hz-kmeans-500-hifigan",
    ),
}


def packaged_bundles() -> list[Bundle]:
    """Pipeline folders shipped in ``textless/assets/<name>/`` (the embedded default)."""
    import json
    from pathlib import Path

    out = []
    for spec_path in sorted((Path(__file__).parent / "assets").glob("*/pipeline.json")):
        spec = json.loads(spec_path.read_text())
        rel = spec_path.relative_to(Path(__file__).parent).as_posix()
        out.append(Bundle(
            name=spec_path.parent.name, kind="pipeline",
            description=spec.get("description", "pipeline shipped with textless"),
            files=(RemoteFile("pipeline", f"package:{rel}", None, rel),),
            loader="textless.pipeline:load_folder_bundle", sample_rate=spec.get("sample_rate"),
            frame_rate=spec.get("frame_rate"), layer=spec.get("layer"),
            vocab_size=spec.get("vocab_size"), license=spec.get("license", "MIT"), source="package",
        ))
    return out


def official_bundles() -> list[Bundle]:
    """Component bundles of the official zoo, then the pipelines built from them."""
    files: dict[str, list[RemoteFile]] = {}
    for name, role, url, sha256, filename in _FILES:
        files.setdefault(name, []).append(RemoteFile(role, url, sha256, filename))
    bundles = {}
    for name, (kind, desc, loader, frame_rate, layer, vocab, lic) in _META.items():
        bundles[name] = Bundle(
            name=name, kind=kind, description=desc, files=tuple(files[name]), loader=loader,
            sample_rate=16000 if name != "waveglow" else 22050, frame_rate=frame_rate,
            layer=layer, vocab_size=vocab, license=lic,
        )
    pipelines = []
    for name, (desc, enc, layer, quant, voc) in _PIPELINES.items():
        q = bundles[quant]
        pipelines.append(Bundle(
            name=name, kind="pipeline", description=desc, loader=PIPELINE, sample_rate=16000,
            frame_rate=q.frame_rate, layer=layer, vocab_size=q.vocab_size, license=q.license,
            components=(enc, quant) + ((voc,) if voc else ()),
        ))
    return list(bundles.values()) + pipelines
