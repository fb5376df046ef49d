"""FakeGenerator: scripted replies, recorded calls, n, stop strings, limits, script files."""

from __future__ import annotations

import json
import re

import pytest

from codistill.models import FakeGenerator, ModelError, Request, Sampling
from codistill.models.fake import fake_from_dict


def test_substring_rules_first_match_wins_and_calls_are_recorded() -> None:
    gen = FakeGenerator({"reverse": "def reverse(s): return s[::-1]", "re": "never"}, default="pass")
    requests = [Request.user("reverse a string", system="ignore 'add' here"), Request.completion("other")]
    out = gen.generate(requests, Sampling())
    assert [g.text for g in out] == ["def reverse(s): return s[::-1]", "pass"]
    assert gen.requests == requests and gen.calls[0].sampling == Sampling()
    assert out[0].prompt_tokens == 6 and out[0].completion_tokens == [4]


def test_regex_rules_and_callables() -> None:
    gen = FakeGenerator(
        [(re.compile(r"task (\d+)"), lambda r, s, i: f"answer {r.prompt.split()[-1]} #{i}")],
        default=lambda r, s, i: "fallback",
    )
    [hit, miss] = gen.generate([Request.completion("task 42"), Request.completion("no")],
                               Sampling(n=2, temperature=1.0))
    assert hit.texts == ["answer 42 #0", "answer 42 #1"] and miss.texts == ["fallback", "fallback"]


def test_n_cycles_through_a_reply_list_deterministically() -> None:
    gen = FakeGenerator({"x": ["a", "b"]})
    sampling = Sampling(n=3, temperature=0.7)
    assert gen.generate([Request.user("x")], sampling)[0].texts == ["a", "b", "a"]
    assert gen.generate([Request.user("x")], sampling)[0].texts == ["a", "b", "a"]


def test_stop_strings_and_max_new_tokens_apply() -> None:
    gen = FakeGenerator({"x": "one two three\n```\nfour"})
    [stopped] = gen.generate([Request.user("x")], Sampling(stop=("```", "zzz")))
    assert stopped.text == "one two three\n" and stopped.finish_reasons == ["stop"]
    [cut] = gen.generate([Request.user("x")], Sampling(max_new_tokens=2))
    assert cut.text == "one two" and cut.finish_reasons == ["length"] and cut.completion_tokens == [2]


def test_unscripted_prompt_fails_loudly() -> None:
    with pytest.raises(ModelError, match="no rule matches prompt 'something else'"):
        FakeGenerator({"x": "y"}).generate([Request.user("something else")], Sampling())


def test_script_file_round_trip_and_identity_follows_content(tmp_path) -> None:
    path = tmp_path / "script.json"
    data = {"rules": [{"regex": "^def ", "reply": "body"}, {"match": "hi", "reply": ["a", "b"]}], "default": "?"}
    path.write_text(json.dumps(data))
    gen = FakeGenerator.from_file(path)
    out = gen.generate([Request.completion("def f"), Request.user("hi"), Request.user("zz")], Sampling())
    assert [g.text for g in out] == ["body", "a", "?"]
    first = gen.identity
    path.write_text(json.dumps({**data, "default": "!"}))
    assert FakeGenerator.from_file(path).identity != first
    assert fake_from_dict(data).generate([Request.user("hi")], Sampling())[0].text == "a"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"rules": [{"reply": "x"}]}', "rule 0 needs 'reply' and 'match' or 'regex'"),
        ('{"rules": [{"regex": "(", "reply": "x"}]}', "rule 0 has a bad regex"),
        ('["a"]', "expected an object with a 'rules' list"),
    ],
)
def test_bad_script_files_are_explained(tmp_path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ModelError, match=re.escape(message)):
        FakeGenerator.from_file(path)


def test_missing_script_file() -> None:
    with pytest.raises(ModelError, match="does not exist"):
        FakeGenerator.from_file("/no/such/script.json")
