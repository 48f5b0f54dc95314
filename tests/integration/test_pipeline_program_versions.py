"""A program's version is the same in every process that builds it (records from two runs compare)."""

from __future__ import annotations

import json
import subprocess
import sys

from pipeline.programs import build_few_shot, build_zero_shot, program_version, save_program

VERSIONS_IN_A_FRESH_PROCESS = """
import json
from pipeline.programs import build_few_shot, build_zero_shot, program_version
print(json.dumps([program_version(build_zero_shot()), program_version(build_few_shot(4)),
                  program_version(build_few_shot(2))]))
"""


def _in_a_fresh_process(code: str, *args: str) -> str:
    # A different hash seed proves the version does not depend on dict/set ordering of one interpreter.
    result = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120,
        env={"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_versions_are_identical_across_processes():
    here = [program_version(build_zero_shot()), program_version(build_few_shot(4)), program_version(build_few_shot(2))]
    assert json.loads(_in_a_fresh_process(VERSIONS_IN_A_FRESH_PROCESS)) == here
    assert len(set(here)) == 3


def test_a_saved_program_loads_with_the_same_version_in_another_process(tmp_path):
    path = tmp_path / "few-shot.json"
    version = save_program(build_few_shot(3), path)
    code = "import sys\nfrom pipeline.programs import load_program\nprint(load_program('few-shot', sys.argv[1])[1])"
    assert _in_a_fresh_process(code, str(tmp_path)) == version
