"""The OpenAI-compatible HTTP backend against a real `mlx_lm.server` started here on 127.0.0.1 with
tiny real models (thinking flag, a whole post, concurrent sections, a collapse aborted mid-stream),
plus the failures a user meets: nothing listening, a model the server doesn't serve, a stream that
breaks off mid-section (a stub server on 127.0.0.1 that hangs up once), and the server killed mid-run."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from pipeline.backends.base import Request
from pipeline.backends.openai import OpenAIBackend
from pipeline.config import SamplingSettings
from pipeline.errors import ModelError
from pipeline.progress import Reporter
from pipeline.runner import RunOptions, run_brief
from pipeline.thinking import split_thinking

from .conftest import MINIMAL_BRIEF
from .tiny_models import ANSWER, ANSWER_CHAIN, LOOP_CHAIN, THINKING_CHAIN, build_scripted_qwen3

pytestmark = pytest.mark.mlx
MESSAGES = ({"role": "system", "content": "You write short sections."}, {"role": "user", "content": "Write."})
# The tiny models have 24 tokens: mlx_lm.server's sampler refuses a top_k past the vocabulary (and its
# generation thread dies), so these briefs turn top-k off.
SERVED_BRIEF = MINIMAL_BRIEF.replace("    max_tokens: 60\n", "    max_tokens: 60\n    top_k: 0\n")


def brief_for(spec: str) -> str:
    return brief_for_text(SERVED_BRIEF, spec)


def brief_for_text(brief: str, spec: str) -> str:
    return brief.replace("model: builtin:smollm2", f"model: '{spec}'")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """mlx_lm.server as a user starts it, on a free port of 127.0.0.1."""

    def __init__(self, model):
        self.model, self.port = str(model), free_port()
        self.process = subprocess.Popen([sys.executable, "-m", "mlx_lm.server", "--model", self.model,
                                         "--host", "127.0.0.1", "--port", str(self.port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(f"http://127.0.0.1:{self.port}/v1/models", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.2)
        raise RuntimeError("mlx_lm.server did not start")

    @property
    def spec(self) -> str:
        return f"openai:http://127.0.0.1:{self.port}/v1#{self.model}"

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = Server(build_scripted_qwen3(tmp_path_factory.mktemp("served"), {**THINKING_CHAIN, **ANSWER_CHAIN}))
    yield running
    running.stop()


def answer(backend, thinking: bool, **settings) -> tuple[str, object]:
    settings = {"enable_thinking": thinking, "temperature": 0.0, "max_tokens": 40, "top_k": 0, **settings}
    deltas = list(backend.stream(Request(backend.render(MESSAGES, thinking), SamplingSettings(**settings), 1)))
    return "".join(d.text for d in deltas), deltas[-1]


def test_thinking_flag_reaches_the_server_and_reasoning_is_marked(server):
    backend = OpenAIBackend(server.spec)
    raw, final = answer(backend, thinking=True)
    split = split_thinking(raw, backend.capabilities.think_markers)
    assert split.visible == ANSWER and "planning quietly" in split.reasoning
    raw_off, final_off = answer(backend, thinking=False)
    assert "planning" not in raw_off and split_thinking(raw_off, backend.capabilities.think_markers).visible == ANSWER
    assert final.finish_reason == final_off.finish_reason == "stop"
    assert final_off.stats.generation_tokens >= len(ANSWER.split())  # from the server's usage fields


def test_a_whole_post_through_the_server(server, write_brief, project):
    brief = write_brief(brief_for(server.spec))
    result = run_brief(brief, RunOptions(out_root=project / "output"), Reporter())
    manifest = json.loads((result.draft_dir / "run.json").read_text())
    assert manifest["model"]["backend"] == "openai"
    firsts = [s["attempts"][0] for s in manifest["sections"]]
    assert all(a["usable"] and a["finish_reason"] == "stop" and a["tokens_out"] > 0 for a in firsts)
    body = (result.draft_dir / "index.md").read_text()
    assert body.count("\n\nMemory matters most") == 2 and "planning" not in body  # once per section
    rendered = json.loads(manifest["sections"][0]["rendered_prompt"])  # the request is the prompt
    assert rendered["chat_template_kwargs"] == {"enable_thinking": False}


def batch_texts(backend, count: int) -> list[str]:
    prompt = backend.render(MESSAGES, False)
    settings = SamplingSettings(temperature=0.0, max_tokens=40, top_k=0)
    texts = [""] * count
    for index, delta in backend.stream_batch([Request(prompt, settings, seed) for seed in range(count)]):
        texts[index] += delta.text
    return texts


def test_batched_sections_through_the_server(server):
    assert batch_texts(OpenAIBackend(server.spec), 4) == [ANSWER] * 4


class SlowStub(BaseHTTPRequestHandler):
    """Streams ten words, 20 ms apart, and counts the requests in flight."""

    in_flight, peak, lock = 0, 0, threading.Lock()

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        cls = type(self)
        with cls.lock:
            cls.in_flight += 1
            cls.peak = max(cls.peak, cls.in_flight)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for n in range(10):
            chunk = {"choices": [{"index": 0, "delta": {"content": f" w{n}"}, "finish_reason": "stop" if n == 9 else None}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
            time.sleep(0.02)
        self.wfile.write(b"data: [DONE]\n\n")
        with cls.lock:
            cls.in_flight -= 1

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("max_batch", [1, 3])
def test_sections_are_sent_concurrently_up_to_max_batch(max_batch, write_brief, project):
    SlowStub.peak = 0
    stub = ThreadingHTTPServer(("127.0.0.1", 0), SlowStub)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    brief = MINIMAL_BRIEF + "".join(f"  - heading: Extra {n}\n    instruction: Say more.\n    words: 20\n" for n in range(3))
    brief += f"generation:\n  mode: batched\n  max_batch: {max_batch}\n"
    try:
        spec = f"openai:http://127.0.0.1:{stub.server_address[1]}/v1#stub"
        result = run_brief(write_brief(brief_for_text(brief, spec)), RunOptions(out_root=project / "output"), Reporter())
    finally:
        stub.shutdown()
    assert [s["attempts"][0]["raw_text"] for s in result.manifest["sections"]] == ["".join(f" w{n}" for n in range(10))] * 5
    assert SlowStub.peak == max_batch  # all at once up to max_batch (the server batches them), never more


def test_collapse_is_aborted_mid_stream_by_closing_it(tmp_path, write_brief, project):
    looping = Server(build_scripted_qwen3(tmp_path / "loop", LOOP_CHAIN))
    try:
        brief = write_brief(brief_for(looping.spec)
                            .replace("max_tokens: 60", "max_tokens: 400\n    attempts: 1"))
        result = run_brief(brief, RunOptions(out_root=project / "output"), Reporter())
        first = result.manifest["sections"][0]["attempts"][0]
        assert first["finish_reason"] == "collapse" and first["tokens_out"] < 200
        assert requests.get(f"http://127.0.0.1:{looping.port}/v1/models", timeout=5).ok  # the server lives on
    finally:
        looping.stop()


def test_nothing_listening_is_a_clear_error():
    backend = OpenAIBackend(f"openai:http://127.0.0.1:{free_port()}/v1#some-model")
    with pytest.raises(ModelError, match=r"cannot connect to http://127\.0\.0\.1:\d+/v1.*4 tries") as caught:
        answer(backend, thinking=False)
    assert "mlx_lm.server" in caught.value.hint


def test_a_model_the_server_does_not_serve_is_named(server):
    backend = OpenAIBackend(f"openai:http://127.0.0.1:{server.port}/v1#nobody/no-such-model")
    with pytest.raises(ModelError, match="refused the request \\(404\\)") as caught:
        answer(backend, thinking=False)
    assert "model name after '#'" in caught.value.hint


def test_bad_spec_says_how_to_write_it():
    with pytest.raises(ModelError, match="bad model"):
        OpenAIBackend("openai:localhost:8080")


class HangsUpOnce(BaseHTTPRequestHandler):
    """An OpenAI-style stub that sends half a section and hangs up on the first call, then answers whole."""

    calls, lock = 0, threading.Lock()

    def do_POST(self):  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers["Content-Length"]))
        with type(self).lock:
            type(self).calls += 1
            first = type(self).calls == 1  # concurrent sections: only the very first call is hung up on
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        words = ("Memory comes first for a local model, because the weights and the cache share one pool "
                 "of memory on the machine.").split(" ")
        for n, word in enumerate(words):
            if first and n == 5:
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)  # the server goes away mid-section
                return
            chunk = {"choices": [{"index": 0, "delta": {"content": (" " if n else "") + word}, "finish_reason": None}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        end = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
               "usage": {"prompt_tokens": 9, "completion_tokens": len(words)}}
        self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())

    def log_message(self, *args):
        pass


def test_a_stream_dropped_mid_section_is_retried_and_the_draft_written(write_brief, project):
    HangsUpOnce.calls = 0
    stub = ThreadingHTTPServer(("127.0.0.1", 0), HangsUpOnce)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    try:
        spec = f"openai:http://127.0.0.1:{stub.server_address[1]}/v1#stub"
        brief = write_brief(brief_for(spec))
        result = run_brief(brief, RunOptions(out_root=project / "output"), Reporter())
    finally:
        stub.shutdown()
    # Sections go concurrently: whichever asked first was hung up on.
    dropped = [s["attempts"] for s in result.manifest["sections"] if s["attempts"][0]["finish_reason"] == "dropped"]
    assert len(dropped) == 1
    first, retry = dropped[0][0], dropped[0][1]
    assert not first["usable"] and "stream_dropped" in {f["code"] for f in first["findings"]}
    assert retry["usable"] and "share one pool of memory" in (result.draft_dir / "index.md").read_text()


def test_server_killed_mid_run_fails_clearly_and_keeps_earlier_drafts(tmp_path, write_brief, project):
    victim = Server(build_scripted_qwen3(tmp_path / "victim", LOOP_CHAIN))
    earlier = project / "output" / "posts" / "earlier"
    earlier.mkdir(parents=True)
    (earlier / "index.md").write_text("an earlier draft\n")
    brief = write_brief(brief_for(victim.spec)
                        .replace("max_tokens: 60", "max_tokens: 4000\n    collapse_watch: false"))
    threading.Timer(1.5, victim.stop).start()
    with pytest.raises(ModelError, match="cannot connect"):
        run_brief(brief, RunOptions(out_root=project / "output"), Reporter())
    assert (earlier / "index.md").read_text() == "an earlier draft\n"


class VLLMStub(BaseHTTPRequestHandler):
    """vLLM's shape where it differs: reasoning as `reasoning_content` deltas (its reasoning parser),
    usage in a last chunk with no choices. Records the request body."""

    received: dict = {}
    authorization: str | None = None

    def do_POST(self):  # noqa: N802
        type(self).received = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).authorization = self.headers.get("Authorization")
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        deltas = [{"role": "assistant"}, {"reasoning_content": "Weigh it."}, {"reasoning_content": " Done."},
                  {"content": "Memory comes first."}]
        for n, delta in enumerate(deltas):
            chunk = {"choices": [{"index": 0, "delta": delta, "finish_reason": "stop" if n == 3 else None}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        usage = {"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 7}}
        self.wfile.write(f"data: {json.dumps(usage)}\n\ndata: [DONE]\n\n".encode())

    def log_message(self, *args):
        pass


def test_vllm_request_fields_and_reasoning_content(monkeypatch):
    monkeypatch.setenv("PIPELINE_API_KEY", "sk-test")
    stub = ThreadingHTTPServer(("127.0.0.1", 0), VLLMStub)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    try:
        backend = OpenAIBackend(f"openai:http://127.0.0.1:{stub.server_address[1]}/v1#Qwen/Qwen3-30B-A3B")
        raw, final = answer(backend, thinking=True, repetition_penalty=1.05, seed=7)
    finally:
        stub.shutdown()
    sent = VLLMStub.received
    assert VLLMStub.authorization == "Bearer sk-test"  # from the environment, never from the brief
    assert sent["model"] == "Qwen/Qwen3-30B-A3B" and sent["chat_template_kwargs"] == {"enable_thinking": True}
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert {k: sent[k] for k in ("max_tokens", "top_k", "repetition_penalty", "temperature")} == {
        "max_tokens": 40, "top_k": 0, "repetition_penalty": 1.05, "temperature": 0.0}
    assert raw == "<think>Weigh it. Done.</think>Memory comes first."
    assert split_thinking(raw, backend.capabilities.think_markers).visible == "Memory comes first."
    assert final.finish_reason == "stop" and final.stats.generation_tokens == 7 and final.stats.prompt_tokens == 12


def test_json_schema_is_sent_only_to_a_server_declared_to_enforce_it():
    from pipeline.kinds.news import pick_schema

    plain = OpenAIBackend("openai:http://127.0.0.1:1/v1#m")
    enforcing = OpenAIBackend("openai:http://127.0.0.1:1/v1?json_schema#m")
    assert not plain.capabilities.constrained and enforcing.capabilities.constrained
    assert enforcing.base_url == "http://127.0.0.1:1/v1"
    request = Request(enforcing.render(MESSAGES, False), SamplingSettings(), 0, schema=pick_schema(3, 2))
    sent = enforcing.body(request)["response_format"]
    assert sent["type"] == "json_schema" and sent["json_schema"]["schema"]["properties"]["picks"]["maxItems"] == 2
    assert "response_format" not in plain.body(Request(plain.render(MESSAGES, False), SamplingSettings(), 0))
    with pytest.raises(ModelError, match="bad model"):
        OpenAIBackend("openai:http://127.0.0.1:1/v1?other#m")


def test_a_salad_from_the_server_is_read_while_it_streams_and_closed(tmp_path):
    """mlx_lm.server streams no probabilities. Served here, the embedded model at temperature 1.6 writes salad; the
    embedded model reads the stream every 16 tokens as it grows (`pipeline check`'s bar), so a stream is closed
    soon after its salad starts: never later than the text signals alone close the same stream (the same seed),
    and for the salads they are slow on, tens of tokens earlier."""
    from pipeline.backends.base import DEFAULT_THINK_MARKERS
    from pipeline.builtin_model import builtin_model_dir
    from pipeline.generate.watch import Watch, watch_stream

    served = Server(builtin_model_dir())
    runs = []
    try:
        backend = OpenAIBackend(served.spec)
        prompt = backend.render(({"role": "user", "content": "Explain why a small machine needs a memory budget."},), False)
        settings = SamplingSettings(max_tokens=100, temperature=1.6, top_p=1.0, top_k=0, min_p=0.0, repetition_penalty=None)

        def streamed(seed: int, read: bool):
            watch = Watch(DEFAULT_THINK_MARKERS, False, True, read=read)
            return watch_stream(backend.stream(Request(prompt, settings, seed)), watch, lambda _: None)

        runs = [(streamed(seed, True), streamed(seed, False)) for seed in (1, 5)]
    finally:
        served.stop()
    for read, text_only in runs:
        assert read.finish_reason == "collapse" and read.collapse.signal == "word_salad"
        assert text_only.visible.startswith(read.visible)  # the same tokens, closed no later
        assert read.stats.generation_tokens <= text_only.stats.generation_tokens
    earlier = [(read, text_only) for read, text_only in runs if read.collapse.signals.get("onset_from") == "model surprisal"]
    assert earlier and all(read.stats.generation_tokens + 10 < text_only.stats.generation_tokens
                           for read, text_only in earlier)
