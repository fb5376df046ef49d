"""The Mistake Book's rules: +1 on a failure, -1 on a pass, dropped at 0, top-k, persistence, blacklist."""

from __future__ import annotations

import json

import pytest

from codistill.stages.mistakes import MistakeBook


def test_a_failure_adds_one_a_pass_subtracts_one_and_zero_drops() -> None:
    book = MistakeBook()
    assert book.record("q", "assert f(1) == 2", failed=False) == 0  # a pass of an unknown test: nothing
    assert book.tests == {}
    assert book.record("q", "assert f(1) == 2", failed=True) == 1  # enters with its first failure
    assert book.record("q", "assert f(1) == 2", failed=True) == 2
    assert book.record("q", "assert f(1) == 2", failed=False) == 1
    assert book.frequency("q", "assert f(1) == 2") == 1
    assert book.record("q", "assert f(1) == 2", failed=False) == 0
    assert book.tests == {}  # dropped, and the question's empty entry with it
    assert book.size() == 0


def test_update_applies_events_in_order() -> None:
    book = MistakeBook()
    book.update("q", [("a", True), ("b", True), ("a", True), ("b", False), ("c", False)])
    assert book.tests == {"q": {"a": 2}}


def test_top_k_orders_by_frequency_then_entry_order() -> None:
    book = MistakeBook()
    book.update("q", [("first", True), ("second", True), ("third", True), ("third", True),
                      ("second", True)])
    book.update("other", [("x", True)])
    assert book.top("q", 2) == ["second", "third"]  # both 2; "second" entered before "third"
    assert book.top("q", 5) == ["second", "third", "first"]
    assert book.top("q", 0) == []
    assert book.top("unknown", 3) == []
    assert book.size() == 4


def test_a_dropped_test_reenters_at_the_end_of_the_entry_order() -> None:
    book = MistakeBook()
    book.update("q", [("a", True), ("b", True), ("a", False), ("a", True)])
    assert book.top("q", 2) == ["b", "a"]


def test_save_and_load_restore_frequencies_order_and_blacklist(tmp_path) -> None:
    book = MistakeBook()
    book.update("q", [("z", True), ("a", True), ("a", True)])
    book.update("p", [("y", True)])
    book.ban("gone", "its reference fails its own tests")
    book.note_attempt("p", solved=False, patience=3)
    path = book.save(tmp_path / "book.json")
    assert json.loads(path.read_text())["tests"]["q"] == [["z", 1], ["a", 2]]
    again = MistakeBook.load(path)
    assert again == book
    assert again.top("q", 2) == ["a", "z"]
    assert again.misses == {"p": 1}
    assert MistakeBook.load(tmp_path / "absent.json") == MistakeBook()


def test_a_corrupt_file_says_what_to_do(tmp_path) -> None:
    path = tmp_path / "book.json"
    path.write_text("[1, 2")
    with pytest.raises(ValueError, match="delete it to start an empty book"):
        MistakeBook.load(path)


def test_blacklist_after_patience_unsolved_phases_in_a_row() -> None:
    book = MistakeBook()
    book.update("q", [("t", True)])
    assert not book.note_attempt("q", solved=False, patience=3)
    assert not book.note_attempt("q", solved=False, patience=3)
    assert not book.note_attempt("q", solved=True, patience=3)  # a success resets the count
    assert book.misses == {}
    assert not book.note_attempt("q", solved=False, patience=3)
    assert not book.note_attempt("q", solved=False, patience=3)
    assert book.note_attempt("q", solved=False, patience=3)
    assert book.banned("q") and "3 code phases" in book.blacklist["q"]
    assert book.top("q", 3) == []  # a blacklisted question's tests are never replayed
    assert not book.note_attempt("q", solved=False, patience=3)  # already banned: reported once
    assert book.record("q", "t", failed=True) == 0 and book.size() == 0  # and its tests stay out


def test_patience_zero_never_blacklists() -> None:
    book = MistakeBook()
    for _ in range(10):
        assert not book.note_attempt("q", solved=False, patience=0)
    assert not book.banned("q") and book.misses == {"q": 10}
