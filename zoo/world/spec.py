"""World v1 constants: the palette, shapes, relation phrases and size limits of world.md."""

from __future__ import annotations

WORLD_VERSION = "v1"  # the scene, prompt and record format (unchanged by v1.1, which changes only the scoring)
SCORE_VERSIONS = ("v1", "v1.1")  # the verifier's scoring rules (docs/world.md); v1 stays reproducible
SCORE_VERSION = "v1.1"  # the default: an object is found only with its colour and its shape

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (230, 25, 75),
    "green": (60, 180, 75),
    "blue": (0, 130, 200),
    "yellow": (255, 225, 25),
    "purple": (145, 30, 180),
    "orange": (245, 130, 48),
}
WHITE = (255, 255, 255)
SHAPES: tuple[str, ...] = ("circle", "square", "triangle")

LEFT, RIGHT, ABOVE, BELOW = "to the left of", "to the right of", "above", "below"
FRONT, BEHIND = "in front of", "behind"
HORIZONTAL = (LEFT, RIGHT)
VERTICAL = (ABOVE, BELOW)
PLANAR = HORIZONTAL + VERTICAL
DEPTH = (FRONT, BEHIND)
PHRASES = PLANAR + DEPTH
OPPOSITE = {LEFT: RIGHT, RIGHT: LEFT, ABOVE: BELOW, BELOW: ABOVE, FRONT: BEHIND, BEHIND: FRONT}

MIN_SIDE_FRACTION = 0.20
MAX_SIDE_FRACTION = 0.30
MARGIN_FACTOR = 0.1  # shrink offsets toward zero by 0.1 * (sa + sb)
DIRECTION_THRESHOLD = 0.5
DEPTH_MIN_OVERLAP = 0.15  # of the smaller box
COLOUR_RADIUS = 80.0  # Euclidean RGB distance for colour membership
MIN_REGION_FRACTION = 0.01  # of the canvas, for an object to be found
MIN_CANVAS, MAX_CANVAS = 32, 512


def article(colour: str) -> str:
    """The indefinite article for a noun phrase that starts with `colour`."""
    return "an" if colour[0] in "aeiou" else "a"
