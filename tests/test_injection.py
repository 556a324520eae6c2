"""Parameter values reach the notebook as data, byte for byte, never as code."""

from __future__ import annotations

import pytest
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook

from branchbook.reports import NOTEBOOK_DIR

HOSTILE = [
    "quote \" and ' both",
    "new\nline and \r\n crlf",
    "triple ''' and \"\"\" quotes",
    "back\\slash \\n not a newline",
    "nul \x00 byte",
    "right-to-left \u202e mark and \u200f",
    "__import__('os').system('echo pwned')",
    "0123",
    "NO",
    "1e3",
    "中文 支行",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_strings_arrive_byte_for_byte(value):
    nb = load_notebook_node(str(NOTEBOOK_DIR / "segmentation.ipynb"))  # as papermill reads it
    params = {
        "branch_id": value,
        "settings": {"note": value, "nested": [value, {"k": value}]},
        "run_id": value,
    }
    out = parameterize_notebook(nb, params)
    injected = next(c for c in out.cells if "injected-parameters" in c.metadata.get("tags", []))
    namespace: dict = {}
    exec(compile(injected.source, "<injected>", "exec"), {"__builtins__": {}}, namespace)  # noqa: S102
    assert namespace["branch_id"] == value
    assert namespace["run_id"] == value
    assert namespace["settings"] == {"note": value, "nested": [value, {"k": value}]}
    assert set(namespace) == set(params)


def test_runner_only_injects_known_names():
    from branchbook.params import BranchParams, Common, Labels

    bp = BranchParams(
        branch_id="0123",
        common=Common(bank_name=Labels(en="B", **{"zh-CN": "行"})),
        sections={},
        source_files=(),
    )
    with pytest.raises(KeyError):
        bp.notebook_parameters("segmentation", period="2026-10", build_dir="/b")
