"""A small OpenAI-compatible HTTP server that scores text with a real (tiny) model, for tests.

It speaks the forms a served teacher may answer in, chosen by `offers`:
- "echo": /v1/completions with echo + logprobs in OpenAI's legacy form (vLLM, llama-cpp-python);
- "prompt_logprobs": vLLM's prompt_logprobs extension (with prompt_token_ids), no echo logprobs;
- "chat": top_logprobs only for the tokens it generates in /v1/chat/completions;
- "none": text only, no logprobs anywhere.
Every POST is counted in `requests`.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer


class ScoringServer:
    """Serves one model folder at http://127.0.0.1:<port>/v1 under the name `teacher`."""

    def __init__(self, model_dir: Path, offers: str = "echo") -> None:
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
        self.offers = offers
        self.requests = 0
        self.bodies: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.app = self  # type: ignore[attr-defined]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    @property
    def spec(self) -> str:
        return f"openai:{self.url}#teacher"

    def start(self) -> ScoringServer:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def logprobs(self, text: str) -> tuple[list[int], list[tuple[int, int]], torch.Tensor]:
        """Token ids, character spans and the log-probabilities the model gives after each token."""
        encoded = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        ids = encoded["input_ids"]
        with self._lock, torch.no_grad():
            logits = self.model(torch.tensor([ids])).logits[0].float()
        return ids, encoded["offset_mapping"], torch.log_softmax(logits, dim=-1)

    def completion(self, body: dict[str, Any]) -> dict[str, Any]:
        text = body["prompt"]
        ids, spans, logps = self.logprobs(text)
        following = int(logps[-1].argmax())
        choice: dict[str, Any] = {"index": 0, "text": self.tokenizer.decode([following]), "finish_reason": "length"}
        k = body.get("logprobs")
        if self.offers == "echo" and body.get("echo") and k:
            choice["text"] = text + choice["text"]
            tokens = [text[a:b] for a, b in spans] + [self.tokenizer.decode([following])]
            tops: list[Any] = [None]
            values: list[Any] = [None]
            for i in range(1, len(ids) + 1):
                row = logps[i - 1]
                best = row.topk(k)
                tops.append({self.tokenizer.decode([int(t)]): float(v) for v, t in zip(best.values, best.indices, strict=True)})
                values.append(float(row[ids[i] if i < len(ids) else following]))
            choice["logprobs"] = {"tokens": tokens, "text_offset": [a for a, _ in spans] + [len(text)],
                                  "token_logprobs": values, "top_logprobs": tops}
        k = body.get("prompt_logprobs")
        if self.offers == "prompt_logprobs" and k:
            entries: list[Any] = [None]
            for i in range(1, len(ids)):
                row = logps[i - 1]
                best = row.topk(k)
                ranked = {int(t): r + 1 for r, t in enumerate(best.indices)}
                ranked.setdefault(ids[i], int((row > row[ids[i]]).sum()) + 1)
                entries.append({str(t): {"logprob": float(row[t]), "rank": r,
                                         "decoded_token": self.tokenizer.decode([t])} for t, r in ranked.items()})
            choice["prompt_logprobs"] = entries
            if body.get("return_token_ids"):
                choice["prompt_token_ids"] = ids
        return {"object": "text_completion", "model": body.get("model"), "choices": [choice],
                "usage": {"prompt_tokens": len(ids), "completion_tokens": 1}}

    def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        choice: dict[str, Any] = {"index": 0, "message": {"role": "assistant", "content": "2"},
                                  "finish_reason": "length"}
        if self.offers == "chat" and body.get("logprobs"):
            choice["logprobs"] = {"content": [{"token": "2", "logprob": -0.1,
                                               "top_logprobs": [{"token": "2", "logprob": -0.1},
                                                                {"token": "3", "logprob": -2.4}]}]}
        return {"object": "chat.completion", "choices": [choice], "usage": {"prompt_tokens": 3, "completion_tokens": 1}}


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, data: dict[str, Any]) -> None:
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self._send(200, {"object": "list", "data": [{"id": "teacher", "object": "model"}]})

    def do_POST(self) -> None:  # noqa: N802
        app: ScoringServer = self.server.app  # type: ignore[attr-defined]
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        with app._lock:
            app.requests += 1
            app.bodies.append(body)
        if self.path.endswith("/chat/completions"):
            self._send(200, app.chat(body))
        elif self.path.endswith("/completions"):
            self._send(200, app.completion(body))
        else:
            self._send(404, {"error": {"message": f"no route {self.path}"}})
