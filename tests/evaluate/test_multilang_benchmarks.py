"""humaneval-<lang> as benchmarks: chat answers and completions for HumanEval/0 pass in each language."""

from __future__ import annotations

import pytest

from codistill.evaluate import load_benchmark
from codistill.evaluate.runner import execute
from codistill.extract import assemble_program
from codistill.records import Sample
from codistill.sandbox.types import Limits

# has_close_elements: the function body (completion mode) and a whole answer (chat mode).
BODIES = {
    "javascript": "  for (let i = 0; i < numbers.length; i++)\n    for (let j = 0; j < numbers.length; j++)\n"
                  "      if (i !== j && Math.abs(numbers[i] - numbers[j]) < threshold) return true;\n"
                  "  return false;\n}\n",
    "typescript": "  for (let i = 0; i < numbers.length; i++)\n    for (let j = 0; j < numbers.length; j++)\n"
                  "      if (i !== j && Math.abs(numbers[i] - numbers[j]) < threshold) return true;\n"
                  "  return false;\n}\n",
    "java": "        for (int i = 0; i < numbers.size(); i++)\n            for (int j = 0; j < numbers.size(); j++)\n"
            "                if (i != j && Math.abs(numbers.get(i) - numbers.get(j)) < threshold) return true;\n"
            "        return false;",
    "cpp": "    for (size_t i = 0; i < numbers.size(); i++)\n        for (size_t j = 0; j < numbers.size(); j++)\n"
           "            if (i != j && std::abs(numbers[i] - numbers[j]) < threshold) return true;\n"
           "    return false;",
    "c": "    for (size_t i = 0; i < numbers_len; i++)\n        for (size_t j = 0; j < numbers_len; j++)\n"
         "            if (i != j && fabs(numbers[i] - numbers[j]) < threshold) return true;\n"
         "    return false;",
    "go": "\tfor i := range numbers {\n\t\tfor j := range numbers {\n"
          "\t\t\tif i != j && math.Abs(numbers[i]-numbers[j]) < threshold {\n\t\t\t\treturn true\n"
          "\t\t\t}\n\t\t}\n\t}\n\treturn false\n}\n",
}
CHAT = {
    "javascript": "```javascript\nfunction has_close_elements(numbers, threshold) {\n" + BODIES["javascript"] + "```",
    "typescript": "Sure.\n```ts\nfunction has_close_elements(numbers: number[], threshold: number): boolean {\n"
                  + BODIES["typescript"] + "```",
    "java": "```java\nclass Solution {\n    public static boolean has_close_elements(List<Double> numbers, double threshold) {\n"
            + BODIES["java"] + "\n    }\n}\n```",
    "cpp": "```cpp\n#include <vector>\n#include <cmath>\nbool has_close_elements(std::vector<double> numbers, double threshold) {\n"
           + BODIES["cpp"] + "\n}\n```",
    "c": "```c\nbool has_close_elements(double *numbers, size_t numbers_len, double threshold) {\n"
         + BODIES["c"] + "\n}\n```",
    "go": "```go\npackage main\n\nimport \"math\"\n\nfunc has_close_elements(numbers []float64, threshold float64) bool {\n"
          + BODIES["go"] + "```",
}


@pytest.mark.parametrize("language", sorted(BODIES))
def test_humaneval_translation_runs_chat_and_completion_answers(language: str) -> None:
    problem = load_benchmark(f"humaneval-{language}", limit=1)[0]
    assert problem.entry_point == "has_close_elements" and problem.language == language
    programs = [assemble_program(problem, BODIES[language], "completion"),
                assemble_program(problem, CHAT[language], "chat"),
                assemble_program(problem, CHAT[language].replace("< threshold", ">= threshold"), "chat")]
    samples = [Sample(task_id=problem.id, completion="", program=src, index=i)
               for i, src in enumerate(programs)]
    results = execute({problem.id: problem}, samples, Limits(timeout_s=30.0))
    assert [s.status for s in results[:2]] == ["passed", "passed"], [s.message for s in results]
    assert not results[2].passed
