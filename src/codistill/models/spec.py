"""The one model-spec syntax (docs/models.md) and `load_generator`, which turns a spec into a Generator."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl

from codistill.models.base import Generator, ModelError

Kind = Literal["embedded", "hf", "openai", "fake"]

FORMS = """\
  embedded:<name>                     an embedded model: embedded:teacher, embedded:student,
                                      embedded:qwen2.5-coder-0.5b, embedded:smollm2-135m
  hf:<hub id or folder>[@revision]    a transformers model, e.g. hf:Qwen/Qwen2.5-Coder-1.5B-Instruct
  <folder>                            a local transformers folder, e.g. ./runs/x/student or /models/m
  openai:<base url>#<model>           an OpenAI-compatible server, e.g. openai:http://localhost:8000/v1#qwen
  fake:<script.json>                  a scripted fake (tests and dry runs)
Any spec may end in ?key=value&... options, e.g. openai:http://h:8000/v1#m?key_env=MY_KEY"""


class SpecError(ModelError, ValueError):
    """A model spec that cannot be parsed; the message lists the valid forms."""


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model spec: which backend, what it points at, and backend options."""

    raw: str
    kind: Kind
    target: str  # embedded name | hub id or folder | base URL | script path
    model: str | None = None  # the served model name (openai)
    revision: str | None = None  # hub revision (hf)
    options: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.raw


def _bad(spec: str, why: str) -> SpecError:
    return SpecError(f"bad model spec {spec!r}: {why}\nValid forms:\n{FORMS}")


def _split_options(body: str, spec: str) -> tuple[str, dict[str, str]]:
    if "?" not in body:
        return body, {}
    body, query = body.split("?", 1)
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise _bad(spec, f"options {query!r} are not key=value pairs joined by '&'") from None
    return body, dict(pairs)


def parse_spec(spec: str) -> ModelSpec:
    """Parse a model spec string; raise SpecError naming the valid forms when it is malformed."""
    from codistill.models.embedded import resolve_name

    if not isinstance(spec, str) or not spec.strip():
        raise _bad(str(spec), "it is empty")
    spec = spec.strip()
    # A folder that exists wins over every prefix rule, so odd folder names still work.
    if Path(spec).expanduser().is_dir():
        return ModelSpec(raw=spec, kind="hf", target=str(Path(spec).expanduser()))
    prefix, sep, rest = spec.partition(":")
    if not sep or prefix not in ("embedded", "hf", "openai", "fake"):
        if spec.startswith((".", "/", "~")) or "/" not in spec:
            raise _bad(spec, "it is not an existing folder and has no known prefix")
        raise _bad(spec, f"write hf:{spec} for a hub model, or check that the folder exists")
    if prefix == "embedded":
        body, options = _split_options(rest, spec)
        try:
            name = resolve_name(body)
        except KeyError as exc:
            raise _bad(spec, str(exc.args[0])) from None
        return ModelSpec(raw=spec, kind="embedded", target=name, options=options)
    if prefix == "hf":
        if Path(rest).expanduser().is_dir():
            return ModelSpec(raw=spec, kind="hf", target=str(Path(rest).expanduser()))
        body, options = _split_options(rest, spec)
        if not body:
            raise _bad(spec, "hf: needs a hub id or a folder after the colon")
        revision = None
        if "@" in body and not Path(body).expanduser().is_dir():
            body, revision = body.rsplit("@", 1)
            if not revision:
                raise _bad(spec, "nothing after '@' (write hf:<id>@<revision>)")
        if Path(body).expanduser().is_dir():
            body = str(Path(body).expanduser())
        elif body.startswith((".", "/", "~")):
            raise _bad(spec, f"folder {body!r} does not exist")
        return ModelSpec(raw=spec, kind="hf", target=body, revision=revision, options=options)
    if prefix == "openai":
        url, hash_, rest_ = rest.partition("#")
        if not url.startswith(("http://", "https://")):
            raise _bad(spec, "openai: needs a base URL starting with http:// or https://")
        model, options = _split_options(rest_, spec)
        if not hash_ or not model:
            raise _bad(spec, "openai: needs the model name after '#', e.g. openai:http://host:8000/v1#qwen")
        return ModelSpec(raw=spec, kind="openai", target=url.rstrip("/"), model=model, options=options)
    body, options = _split_options(rest, spec)
    if not body:
        raise _bad(spec, "fake: needs the path of a script JSON file")
    return ModelSpec(raw=spec, kind="fake", target=body, options=options)


def _typed(options: dict[str, str], spec: ModelSpec) -> dict[str, Any]:
    """Convert option strings to the Python types the backends take."""
    out: dict[str, Any] = {}
    for key, value in options.items():
        if key in ("concurrency", "batch_size", "max_retries"):
            try:
                out[key] = int(value)
            except ValueError:
                raise _bad(spec.raw, f"option {key}={value!r} is not an integer") from None
        elif key in ("timeout", "backoff"):
            try:
                out[key] = float(value)
            except ValueError:
                raise _bad(spec.raw, f"option {key}={value!r} is not a number") from None
        else:
            out[key] = value
    return out


_OPTIONS: dict[str, set[str]] = {
    "embedded": {"dtype", "device", "batch_size"},
    "hf": {"dtype", "device", "batch_size"},
    "openai": {"key_env", "concurrency", "timeout", "max_retries", "backoff", "identity"},
    "fake": {"name"},
}


def load_generator(
    spec: str | ModelSpec,
    *,
    dtype: str = "auto",
    device: str = "auto",
    batch_size: int = 8,
    concurrency: int = 8,
    **opts: Any,
) -> Generator:
    """Build the Generator a spec names; options in the spec override the keyword arguments."""
    parsed = spec if isinstance(spec, ModelSpec) else parse_spec(spec)
    unknown = set(parsed.options) - _OPTIONS[parsed.kind]
    if unknown:
        raise _bad(parsed.raw, f"unknown option(s) {sorted(unknown)} for {parsed.kind}: "
                               f"valid are {sorted(_OPTIONS[parsed.kind])}")
    spec_opts = _typed(parsed.options, parsed)
    if parsed.kind == "fake":
        from codistill.models.fake import FakeGenerator

        return FakeGenerator.from_file(parsed.target, **spec_opts)
    if parsed.kind == "openai":
        from codistill.models.openai_http import OpenAIGenerator

        kwargs = {"concurrency": concurrency, **opts, **spec_opts}
        return OpenAIGenerator(parsed.target, parsed.model or "", **kwargs)
    from codistill.models.local import LocalGenerator

    kwargs = {"dtype": dtype, "device": device, "batch_size": batch_size, **opts, **spec_opts}
    if parsed.kind == "embedded":
        return LocalGenerator.from_embedded(parsed.target, **kwargs)
    return LocalGenerator.from_pretrained(parsed.target, revision=parsed.revision, **kwargs)
