"""Scenes of world v1: objects, relations, their prompt, and JSON round-trips."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zoo.world.spec import COLOURS, DEPTH, PHRASES, SHAPES, article


@dataclass(frozen=True)
class WorldObject:
    """One coloured shape."""

    colour: str
    shape: str

    def __post_init__(self) -> None:
        if self.colour not in COLOURS:
            raise ValueError(f"unknown colour {self.colour!r}; world v1 has {sorted(COLOURS)}")
        if self.shape not in SHAPES:
            raise ValueError(f"unknown shape {self.shape!r}; world v1 has {list(SHAPES)}")

    @property
    def noun(self) -> str:
        """"{colour} {shape}", without article."""
        return f"{self.colour} {self.shape}"


@dataclass(frozen=True)
class Relation:
    """"objects[subject] <phrase> objects[object]"."""

    subject: int
    phrase: str
    object: int

    def __post_init__(self) -> None:
        if self.phrase not in PHRASES:
            raise ValueError(f"unknown relation phrase {self.phrase!r}; world v1 has {list(PHRASES)}")
        if self.subject == self.object:
            raise ValueError(f"a relation needs two different objects, got {self.subject} twice")

    @property
    def is_depth(self) -> bool:
        """Whether this is an occlusion (front/behind) relation."""
        return self.phrase in DEPTH

    def to_json(self) -> list:
        """[subject index, phrase, object index], as stored in shards."""
        return [self.subject, self.phrase, self.object]


@dataclass(frozen=True)
class Scene:
    """Objects (distinct colours) and the relations a prompt states about them."""

    objects: tuple[WorldObject, ...]
    relations: tuple[Relation, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        colours = [o.colour for o in self.objects]
        if len(set(colours)) != len(colours):
            raise ValueError(f"objects of one scene need different colours, got {colours}")
        for rel in self.relations:
            for idx in (rel.subject, rel.object):
                if not 0 <= idx < len(self.objects):
                    raise ValueError(f"relation {rel.to_json()} names object {idx}; scene has {len(self.objects)}")
        pairs = [frozenset((r.subject, r.object)) for r in self.relations]
        if len(set(pairs)) != len(pairs):
            raise ValueError(f"a pair of objects is related twice in {[r.to_json() for r in self.relations]}")

    @property
    def prompt(self) -> str:
        """The prompt: clauses joined by ", and ", "a ..." at first mention and "the ..." after."""
        mentioned: set[int] = set()

        def name(idx: int) -> str:
            obj = self.objects[idx]
            det = "the" if idx in mentioned else article(obj.colour)
            mentioned.add(idx)
            return f"{det} {obj.noun}"

        clauses = []
        for rel in self.relations:
            subject = name(rel.subject)
            clauses.append(f"{subject} {rel.phrase} {name(rel.object)}")
        return ", and ".join(clauses)

    def with_relations(self, relations: list[Relation] | tuple[Relation, ...]) -> "Scene":
        """The same objects with other relations."""
        return Scene(self.objects, tuple(relations))

    def to_json(self) -> dict[str, Any]:
        """{objects, relations} as stored in shards."""
        return {
            "objects": [{"colour": o.colour, "shape": o.shape} for o in self.objects],
            "relations": [r.to_json() for r in self.relations],
        }

    @classmethod
    def from_json(cls, meta: dict[str, Any]) -> "Scene":
        """Read {objects, relations} from a shard record (extra keys ignored)."""
        try:
            objects = tuple(WorldObject(o["colour"], o["shape"]) for o in meta["objects"])
            relations = tuple(Relation(int(s), str(p), int(o)) for s, p, o in meta["relations"])
        except KeyError as err:
            raise ValueError(f"scene record lacks key {err}") from err
        except (TypeError, ValueError) as err:
            raise ValueError(f"bad scene record: {err}") from err
        return cls(objects, relations)
