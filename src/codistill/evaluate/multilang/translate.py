"""Turn one language-independent Task into a Problem of a target language."""

from __future__ import annotations

from collections import Counter

from codistill.evaluate.multilang.base import Signature, Target, Untranslatable, label_text
from codistill.evaluate.multilang.docstrings import translate_doc
from codistill.evaluate.multilang.task import Skip, Task
from codistill.records import Problem


def signature(task: Task, target: Target) -> Signature:
    """The task's signature with target-safe names; raises Skip when a type does not translate."""
    names: list[str] = []
    for param in task.params:
        name = target.identifier(param.name)
        while name in names:
            name += "_"
        names.append(name)
    sig = Signature(
        name=target.identifier(task.name),
        params=tuple((n, p.type) for n, p in zip(names, task.params, strict=True)),
        returns=task.returns,
        python_name=task.name,
    )
    try:
        target.check_signature(sig)
    except Untranslatable as err:
        raise Skip(f"untranslatable type: {err}") from err
    return sig


def translate_task(task: Task, target: Target) -> Problem:
    """The Problem in the target language; raises Skip with the reason when it cannot be."""
    if task.id in target.unsolvable:
        raise Skip(f"unsolvable: {target.unsolvable[task.id]}")
    if not task.cases:
        raise Skip(f"no usable assertions: {_main_reason(task.dropped)}")
    sig = signature(task, target)
    assertions, dropped = [], list(task.dropped)
    for index, case in enumerate(task.cases):
        try:
            assertions.append(target.assertion(sig, case, label_text(index, case.source)))
        except Untranslatable as err:
            dropped.append((case.source, str(err)))
    # MultiPL-E's rule: drop an assertion that does not translate, but only while most remain.
    if len(assertions) * 2 <= task.total:
        raise Skip(f"too few assertions translate ({len(assertions)} of {task.total}): "
                   f"{_main_reason(dropped)}")
    doc = translate_doc(task.doc, task.name, sig, target)
    return Problem(
        id=f"HumanEval-{target.name}/{task.number}",
        language=target.name,
        question=_question(target, sig, doc),
        prompt=target.prompt(sig, doc),
        entry_point=sig.name,
        tests=target.tests(sig, assertions),
        reference=None,
        source=f"humaneval-{target.name}",
        meta={
            "original_id": task.id,
            "python_entry_point": task.name,
            "types": sig.types,
            "signature": target.declaration(sig),
            "assertions": len(assertions),
            "python_assertions": task.total,
            "dropped_assertions": [{"python": src, "reason": why} for src, why in dropped],
            "untranslated_helpers": task.helpers,  # other functions in the Python prompt
        },
    )


def _question(target: Target, sig: Signature, doc: str) -> str:
    parts = [f"Write a {target.title} function with this signature:\n\n"
             f"{target.declaration(sig)}\n\nIt must do the following.\n\n{doc.strip()}"]
    if notes := target.notes(sig):
        parts.append(notes)
    return "\n\n".join(parts) + "\n"


def _main_reason(dropped: list[tuple[str, str]]) -> str:
    """The commonest reason among dropped assertions."""
    if not dropped:
        return "the tests hold no assertions"
    return Counter(why for _, why in dropped).most_common(1)[0][0]
