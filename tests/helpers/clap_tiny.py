"""A tiny random CLAP checkpoint, saved as `save_pretrained` writes a real one: the tests of
the clap backend and of the core with a network backend load it through the real code."""

from __future__ import annotations

import json

import torch
import transformers

# Small enough to build and run in a blink; scripts/bench_deep_cpu.py uses them too.
TINY_AUDIO = {
    "patch_embeds_hidden_size": 8,  # 8, 16, 32, 64 over the four stages
    "hidden_size": 64,
    "depths": [1, 1, 1, 1],
    "num_attention_heads": [1, 1, 2, 2],
}
TINY_TEXT = {
    "hidden_size": 16,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "intermediate_size": 32,
    "vocab_size": 100,
    "max_position_embeddings": 40,
}


def tiny_config(fusion: bool = False) -> transformers.ClapConfig:
    audio = {**TINY_AUDIO, "enable_fusion": fusion, "fusion_type": "aff_2d" if fusion else None}
    return transformers.ClapConfig(audio_config=audio, text_config=TINY_TEXT, projection_dim=16)


def tiny_tokenizer(folder):
    tokens = ["<s>", "<pad>", "</s>", "<unk>", "<mask>", "a", "b", "ab", "\u0120"]
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}))
    (folder / "merges.txt").write_text("#version: 0.2\na b\n")
    return transformers.RobertaTokenizer(
        vocab_file=str(folder / "vocab.json"), merges_file=str(folder / "merges.txt")
    )


def save_tiny(folder, seed: int = 0, fusion: bool = False, **extractor_args):
    """A checkpoint folder as `save_pretrained` writes it: model + processor."""
    torch.manual_seed(seed)
    transformers.ClapModel(tiny_config(fusion)).save_pretrained(folder)
    args = {"truncation": "rand_trunc", "frequency_min": 50, **extractor_args}
    extractor = transformers.ClapFeatureExtractor(**args)
    tok_dir = folder.parent / f"{folder.name}-tok"
    tok_dir.mkdir()
    transformers.ClapProcessor(extractor, tiny_tokenizer(tok_dir)).save_pretrained(folder)
    return folder
