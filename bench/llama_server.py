"""The embedded student through a real llama.cpp server vs in-process: do greedy verdicts agree?

    python bench/llama_server.py                  # first 40 HumanEval tasks, greedy, 512 tokens
    python bench/llama_server.py --limit 164 --json docs/results/llama-server.json

The server (llama-cpp-python 0.3.36 from `scripts/setup-llama-server.sh`) runs the student's own
Q4_1 GGUF; codistill runs the same file dequantized, in bf16. They differ by quantized arithmetic
only, so most verdicts should agree. Prints each side's pass@1, the agreement (tasks with the same
verdict), the tasks where they differ, and each side's wall time. Both sides go through the request
cache, so a rerun is free; the embedded side is shared with the gain benchmark's base evaluation.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.models.llama_server import LlamaServer, llama_python  # noqa: E402

from codistill.cache import RequestCache  # noqa: E402
from codistill.evaluate import evaluate_model  # noqa: E402
from codistill.models import embedded, load_generator  # noqa: E402
from codistill.paths import request_cache_path  # noqa: E402
from codistill.sandbox import Limits  # noqa: E402

console = Console(stderr=True)


def main(argv: list[str] | None = None) -> int:
    """Evaluate both ways and print the agreement."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--max-new-tokens", type=int, default=512)
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp server threads")
    parser.add_argument("--out", default="runs/bench-llama-server")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)

    python, gguf = llama_python(), embedded.locate("student")
    if python is None or not gguf:
        console.print("needs `bash scripts/setup-llama-server.sh` and `bash scripts/setup.sh` first")
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cache = RequestCache(request_cache_path())
    # A fixed port: the URL is part of the cache identity, so reruns hit the cache.
    server = LlamaServer(python, gguf[0], 18765, out / "server.log",
                         threads=args.threads)
    results, seconds = {}, {}
    try:
        server.start()
        sides = {"server": load_generator(server.spec + "?concurrency=1"),
                 "embedded": load_generator("embedded:student", dtype="bfloat16", device="cpu",
                                            batch_size=16)}
        for name, model in sides.items():
            started = time.perf_counter()
            results[name] = evaluate_model(model, "humaneval", limit=args.limit, out_dir=out / name,
                                           n=1, max_new_tokens=args.max_new_tokens, ks=(1,),
                                           limits=Limits(timeout_s=10), cache=cache, progress=True)
            seconds[name] = round(time.perf_counter() - started, 1)
            if name == "server":
                server.kill()  # free its cores for the in-process side
            model.close()
    finally:
        server.kill()
    verdicts = {name: {t.task_id: t.correct > 0 for t in r.per_task} for name, r in results.items()}
    tasks = sorted(verdicts["server"], key=lambda t: int(t.split("/")[-1]))
    code = {name: {row["task_id"]: row["completion"] for row in map(json.loads, (out / name / "samples.jsonl").open())}
            for name in results}
    differ = [t for t in tasks if verdicts["server"][t] != verdicts["embedded"][t]]
    figures = {
        "tasks": len(tasks), "max_new_tokens": args.max_new_tokens,
        "passed": {name: sum(v.values()) for name, v in verdicts.items()},
        "agreement": round(1 - len(differ) / len(tasks), 4),
        "differ": {t: {name: verdicts[name][t] for name in verdicts} for t in differ},
        "identical_code": sum(code["server"].get(t) == code["embedded"].get(t) for t in tasks),
        "seconds": seconds, "cached": {n: results[n].generation_s == 0 for n in results},
    }
    console.print(f"HumanEval first {len(tasks)} tasks, greedy: llama.cpp server "
                  f"{figures['passed']['server']}/{len(tasks)}, embedded (bf16) "
                  f"{figures['passed']['embedded']}/{len(tasks)}; verdicts agree on "
                  f"{len(tasks) - len(differ)}/{len(tasks)} ({figures['agreement']:.1%}); identical "
                  f"code on {figures['identical_code']}; differ on {', '.join(differ) or 'none'}",
                  highlight=False)
    console.print(f"wall seconds: {seconds}", highlight=False)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
