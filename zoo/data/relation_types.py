"""What relation finding returns: `Span`s of the prompt and `TextRelation`s between them (shared by the finder, its
filters and subject search, and everything that edits a prompt)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """A piece of the prompt: [start, end) characters and its text."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class TextRelation:
    """One spatial relation found in a prompt: subject, phrase, object (and a second object for "between")."""

    subject: Span
    phrase: Span
    predicate: str
    object: Span | None = None
    object2: Span | None = None

    @property
    def absolute(self) -> bool:
        return self.object is None

    def entities(self) -> list[Span]:
        return [s for s in (self.subject, self.object, self.object2) if s is not None]

    def to_json(self) -> dict:
        return {"subject": self.subject.text, "phrase": self.phrase.text, "predicate": self.predicate,
                "object": self.object.text if self.object else None,
                **({"object2": self.object2.text} if self.object2 else {})}

    def sentence(self) -> str:
        """The relation alone, e.g. "a cat to the left of a dog" (for a judge's question)."""
        parts = [self.subject.text, self.phrase.text]
        if self.object is not None:
            parts.append(self.object.text + (f" and {self.object2.text}" if self.object2 else ""))
        return " ".join(parts)
