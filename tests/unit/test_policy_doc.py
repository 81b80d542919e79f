"""Every permission is documented: the README's table is exactly the generated one."""

from __future__ import annotations

from pathlib import Path

from webmap.access.policy import POLICY
from webmap.access.policy_doc import BEGIN, END, permissions_markdown

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_documents_every_permission_as_the_policy_says() -> None:
    text = README.read_text()
    assert BEGIN in text and END in text, "README has no generated permissions table"
    documented = text[text.index(BEGIN) : text.index(END) + len(END)]
    assert documented == permissions_markdown(), (
        "README's permissions table is out of date:"
        " paste `python -m webmap.access.policy_doc` into it"
    )
    for resource, action in POLICY:
        assert f"`{resource}.{action}`" in documented
