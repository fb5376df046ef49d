"""One Generator interface for every model role; backends load lazily (torch only when needed).

    from codistill.models import load_generator, Request, Sampling
    with load_generator("embedded:teacher") as teacher:
        [gen] = teacher.generate([Request.user("Write fizzbuzz in Python.")], Sampling())

Spec syntax: docs/models.md.
"""

from codistill.models.base import (
    Generation,
    GenerationFailed,
    Generator,
    Message,
    ModelError,
    Progress,
    Request,
    Sampling,
)
from codistill.models.fake import FakeGenerator
from codistill.models.spec import ModelSpec, SpecError, load_generator, parse_spec

__all__ = [
    "FakeGenerator",
    "Generation",
    "GenerationFailed",
    "Generator",
    "Message",
    "ModelError",
    "ModelSpec",
    "Progress",
    "Request",
    "Sampling",
    "SpecError",
    "load_generator",
    "parse_spec",
]
