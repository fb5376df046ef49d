"""Code that runs inside the sandbox (standard library and toolchains only, never codistill)."""
