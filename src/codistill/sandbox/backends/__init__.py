"""Where batches run: this machine, a Ray cluster, or a SandboxFusion server, chosen by a spec.

    backend_from_spec("local", 8)                             # LocalBackend(8)
    backend_from_spec("ray", None)                            # a local Ray instance, or RAY_ADDRESS
    backend_from_spec("ray:auto", None)                       # the cluster this node belongs to
    backend_from_spec("ray:ray://head:10001", None)           # Ray client
    backend_from_spec("sandboxfusion:http://host:8080", 16)   # 16 requests in flight

The spec is `sandbox.backend` in the run configuration. Ray is imported only when a Ray batch
runs; `RayBackend` and `SandboxFusionBackend` are imported from their modules on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from codistill.sandbox.backends.local import Backend, LocalBackend

if TYPE_CHECKING:
    from codistill.sandbox.backends.ray import RayBackend
    from codistill.sandbox.backends.sandboxfusion import SandboxFusionBackend

FORMS = "'local', 'ray', 'ray:<address>' or 'sandboxfusion:<http(s) url>'"
FUSION_CONCURRENCY = 8


def backend_from_spec(spec: str, workers: int | None = None) -> Backend:
    """The backend a spec names; ValueError saying what to write for anything else.

    `workers` is the local thread count, the Ray tasks in flight, or the SandboxFusion requests
    in flight (default 8); None leaves each backend's own default.
    """
    text = (spec or "").strip()
    kind, _, rest = text.partition(":")
    kind = kind.lower()
    if kind == "local" and not rest:
        return LocalBackend(workers)
    if kind == "ray":
        from codistill.sandbox.backends.ray import RayBackend  # noqa: PLC0415 - optional extra

        return RayBackend(rest.strip() or None, max_in_flight=workers)
    if kind == "sandboxfusion":
        from codistill.sandbox.backends.sandboxfusion import (  # noqa: PLC0415
            SandboxFusionBackend,
        )

        url = rest.strip()
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"sandbox backend {spec!r} needs a URL: write "
                             "'sandboxfusion:http://host:8080' (sandbox.backend in the config)")
        return SandboxFusionBackend(url, concurrency=workers or FUSION_CONCURRENCY)
    raise ValueError(f"unknown sandbox backend {spec!r}: write {FORMS} (sandbox.backend in the "
                     "config)")


def __getattr__(name: str) -> type:
    """`RayBackend` and `SandboxFusionBackend` on demand (importing this package stays light)."""
    if name == "RayBackend":
        from codistill.sandbox.backends.ray import RayBackend  # noqa: PLC0415

        return RayBackend
    if name == "SandboxFusionBackend":
        from codistill.sandbox.backends.sandboxfusion import (  # noqa: PLC0415
            SandboxFusionBackend,
        )

        return SandboxFusionBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["FORMS", "Backend", "LocalBackend", "RayBackend", "SandboxFusionBackend",
           "backend_from_spec"]
