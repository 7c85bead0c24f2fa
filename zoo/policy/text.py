"""A policy's text conditioning: per-prompt rows (embeddings, an optional pooled vector and token mask) that the
base class caches, batches and mixes with the empty prompt whatever the family."""

from __future__ import annotations

from dataclasses import dataclass

import torch

ROW_FIELDS = ("prompt_embeds", "pooled", "mask")  # per-prompt fields (text_ids is shared by the batch)


@dataclass
class TextEmbeds:
    """Per-prompt text conditioning of a batch: embeddings (B, L, D); `pooled` (B, P): a pooled text vector (Flux,
    SD3; None for families without one); `mask` (B, L): which tokens are real (families that pad their text to a
    fixed length and mask it, e.g. Qwen-Image; None otherwise); `text_ids`: Flux's text positions (None for others)."""

    prompt_embeds: torch.Tensor
    pooled: torch.Tensor | None = None
    text_ids: torch.Tensor | None = None
    mask: torch.Tensor | None = None

    def rows(self) -> list[tuple[torch.Tensor | None, ...]]:
        """One (embeds, pooled, mask) tuple per prompt, on CPU (what the cache stores)."""
        fields = [getattr(self, f) for f in ROW_FIELDS]
        return [tuple(None if f is None else f[i].cpu() for f in fields) for i in range(len(self.prompt_embeds))]

    @staticmethod
    def stack(rows: list[tuple[torch.Tensor | None, ...]], device, text_ids: torch.Tensor | None) -> "TextEmbeds":
        """The batch of cached rows on `device`."""
        fields = [None if rows[0][k] is None else torch.stack([r[k] for r in rows]).to(device)
                  for k in range(len(ROW_FIELDS))]
        return TextEmbeds(fields[0], fields[1], text_ids, fields[2])

    def where(self, mask: torch.Tensor, other: "TextEmbeds") -> "TextEmbeds":
        """Rows of `other` where mask is true (e.g. the unconditional prompt for caption dropout)."""
        m = mask.to(self.prompt_embeds.device)

        def pick(mine, theirs):
            if mine is None:
                return None
            return torch.where(m.view(-1, *[1] * (mine.ndim - 1)), theirs, mine)

        return TextEmbeds(*(pick(getattr(self, f), getattr(other, f)) for f in ("prompt_embeds", "pooled")),
                          self.text_ids, pick(self.mask, other.mask))

    def cat(self, other: "TextEmbeds") -> "TextEmbeds":
        """This batch followed by `other` (e.g. conditional and unconditional rows for CFG)."""
        both = lambda a, b: None if a is None else torch.cat([a, b])  # noqa: E731
        return TextEmbeds(both(self.prompt_embeds, other.prompt_embeds), both(self.pooled, other.pooled),
                          self.text_ids, both(self.mask, other.mask))
