"""The world's tokenizer: an offline byte-level BPE for tiny models (reward backbones, policies' text towers, the
tiny chat LM), trained on the SpatialShapes grammar.

Whole world words become single tokens; anything else still encodes, byte by byte. Training is
deterministic (a fixed corpus), takes well under a second, and the result is saved with a scorer.
"""

from __future__ import annotations

from itertools import product
from typing import TYPE_CHECKING

from zoo.world.spec import COLOURS, PHRASES, SHAPES

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

QWEN_SPECIALS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
                 "<|image_pad|>", "<|video_pad|>")
EXTRA_WORDS = ("a an the and , : ; . ? yes no image picture shows with of is at in on left right top bottom "
               "middle centre center near far does this follow description spatial relations 0 1 2 3 4 5 6 7 8 9")


def world_corpus() -> list[str]:
    """Sentences covering every colour, shape and relation phrase of world v1 (fixed order)."""
    nouns = [f"{c} {s}" for c, s in product(COLOURS, SHAPES)]
    lines = [f"a {a} {p} the {b}" for a, p, b in product(nouns[:6], PHRASES, nouns[6:12])]
    lines += [f"an {n}, and the {n}" for n in nouns] + [EXTRA_WORDS] * 4
    return lines


CLIP_END = "<|endoftext|>"  # the end token of tiny CLIP text towers (id 0; see zoo.policy.flux.tiny_tokenizer)


def build_world_tokenizer(vocab_size: int = 512, extra_specials: tuple[str, ...] = ()) -> PreTrainedTokenizerFast:
    """A byte-level BPE with the Qwen special tokens (and `extra_specials`), padding with <|endoftext|>."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers  # loaded when a tokenizer is built
    from transformers import PreTrainedTokenizerFast

    specials = list(QWEN_SPECIALS) + [s for s in extra_specials if s not in QWEN_SPECIALS]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator(world_corpus(), trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, pad_token="<|endoftext|>", eos_token="<|im_end|>")
    tokenizer.add_special_tokens({"additional_special_tokens": specials[1:]})
    return tokenizer
