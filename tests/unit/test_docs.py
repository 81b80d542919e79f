"""Docs as tests: what README.md and ARCHITECTURE.md say about the code must match the code.

- The README's "The `csmap` command" section lists every command and option of click's tree
  (``webmap.cli.main``), and no command or option that does not exist; so does every
  `` `csmap ...` `` mentioned anywhere in the two documents.
- ARCHITECTURE.md's "Layout" block lists every package and module under ``webmap/`` and
  ``spatial/`` with a line saying what it is for, and nothing that is not on disk.
- Every ``webmap/...`` or ``spatial/...`` path, and every ``webmap.x.y`` name, written in either
  document exists.

The checkers are plain functions returning a list of problems, so each test can also show
that they catch what they are meant to catch (a doctored copy of the real document).
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import click

from webmap.cli import main

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
ARCHITECTURE = ROOT / "ARCHITECTURE.md"
CLI_HEADING = "## The `csmap` command"
LAYOUT_HEADING = "## Layout"
#: The packages whose every module the layout must name.
SOURCE_ROOTS = ("webmap", "spatial")

CommandPath = tuple[str, ...]
COMMAND_WORD = re.compile(r"[a-z][a-z0-9-]*")
LONG_OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
MENTION = re.compile(r"`(csmap(?: [^`]*)?)`")


def section(text: str, heading: str) -> str:
    """The text under ``heading`` (a ``## `` line), up to the next heading of that level."""
    start = text.index(heading + "\n") + len(heading) + 1
    end = text.find("\n## ", start)
    return text[start : end if end != -1 else len(text)]


def code_block(text: str) -> str:
    """The first fenced block of ``text``, without its fences."""
    match = re.search(r"^```[a-z]*\n(.*?)^```", text, re.S | re.M)
    assert match, "no fenced block"
    return match.group(1)


# -- the csmap command --------------------------------------------------------------------------


def command_tree(
    command: click.Command = main, path: CommandPath = ()
) -> dict[CommandPath, click.Command]:
    """Every command path under ``command`` (groups included), hidden ones left out: hiding is
    click's way of saying "not for the docs"."""
    tree = {path: command}
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            if not sub.hidden:
                tree |= command_tree(sub, (*path, name))
    return tree


def option_names(command: click.Command) -> set[str]:
    """The long names of a command's options (both halves of ``--x/--no-x``)."""
    names: set[str] = set()
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            given = [*param.opts, *param.secondary_opts]
            names |= {o for o in given if o.startswith("--")} or set(given)
    return names


def resolve(synopsis: str, tree: dict[CommandPath, click.Command]) -> tuple[CommandPath, str]:
    """The command a synopsis (``csmap users list [--agency SLUG]``) names, and a problem if it
    names a sub-command that does not exist. Words are sub-commands while the command so far
    is a group; after a leaf command, everything is its arguments."""
    words = synopsis.split()[1:]
    path: CommandPath = ()
    for word in words:
        if not isinstance(tree[path], click.Group):
            break
        if (*path, word) in tree:
            path = (*path, word)
        elif COMMAND_WORD.fullmatch(word):
            return path, f"`{' '.join(['csmap', *path, word])}` is not a command"
        else:
            break
    return path, ""


def command_entries(block: str) -> list[tuple[str, str]]:
    """(synopsis, whole entry) for each command of the README's block: an entry is a line
    starting ``csmap`` plus the indented lines after it; the synopsis ends where two spaces
    start the description."""
    entries: list[tuple[str, str]] = []
    for line in block.splitlines():
        if line.startswith("csmap"):
            entries.append((re.split(r" {2,}", line.strip())[0], line))
        elif line.strip():
            assert line[0] == " " and entries, f"not a command entry: {line!r}"
            entries[-1] = (entries[-1][0], entries[-1][1] + "\n" + line)
    return entries


def unknown_names(synopsis: str, text: str, tree: dict[CommandPath, click.Command]) -> list[str]:
    """Problems with one mention of a command: a command or an option that does not exist."""
    path, problem = resolve(synopsis, tree)
    if problem:
        return [problem]
    known = option_names(tree[path]) | {"--help"}
    name = " ".join(["csmap", *path])
    return [f"`{name}` has no option {o}" for o in LONG_OPTION.findall(text) if o not in known]


def cli_problems(readme: str, other_docs: tuple[str, ...] = ()) -> list[str]:
    """Everything the README's command section misses or invents, and every `csmap ...`
    mention in the documents that names a command or option that does not exist."""
    tree = command_tree()
    problems: list[str] = []
    documented: dict[CommandPath, set[str]] = {}
    for synopsis, entry in command_entries(code_block(section(readme, CLI_HEADING))):
        problems += unknown_names(synopsis, entry, tree)
        path, _ = resolve(synopsis, tree)
        documented.setdefault(path, set()).update(LONG_OPTION.findall(entry))
    for path, command in sorted(tree.items()):
        name = " ".join(["csmap", *path])
        if path and not any(p[: len(path)] == path for p in documented):
            problems.append(f"`{name}` is missing")
            continue
        for option in sorted(option_names(command) - documented.get(path, set())):
            problems.append(f"`{name}` option {option} is missing")
    for text in (readme, *other_docs):
        for mention in MENTION.findall(text):
            problems += unknown_names(mention, mention, tree)
    return problems


def test_readme_lists_every_csmap_command_and_option_and_no_other() -> None:
    problems = cli_problems(README.read_text(), (ARCHITECTURE.read_text(),))
    assert not problems, "README's `csmap` section is out of date:\n" + "\n".join(problems)


def test_cli_check_names_what_is_missing_or_invented() -> None:
    readme = README.read_text()
    block = code_block(section(readme, CLI_HEADING))
    vocab_add = next(line for line in block.splitlines() if line.startswith("csmap vocab add"))
    doctored = readme.replace(vocab_add + "\n", "").replace("--workers", "--processes")
    doctored = doctored.replace("csmap agencies ", "csmap db frobnicate ", 1)
    doctored += "\nRun `csmap publications purge` or `csmap serve --verbose`.\n"
    assert sorted(cli_problems(doctored)) == [
        "`csmap agencies` is missing",
        "`csmap db frobnicate` is not a command",
        "`csmap publications purge` is not a command",
        "`csmap serve` has no option --processes",
        "`csmap serve` has no option --verbose",
        "`csmap serve` option --workers is missing",
        "`csmap vocab add` is missing",
    ]


# -- ARCHITECTURE.md's layout -------------------------------------------------------------------


def layout_entries(block: str) -> tuple[list[tuple[str, str]], list[str]]:
    """(path, description) per entry of the layout block, and problems with its shape.

    An entry's name starts at column 2 × depth and is a child of the nearest entry above it
    one level up (a directory, whose name ends in ``/``); its description follows on the same
    line. Lines indented further than one level below the previous entry continue its
    description."""
    entries: list[tuple[str, str]] = []
    problems: list[str] = []
    parents: list[str] = []
    previous = -2
    for line in block.splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        if indent % 2 or indent > previous + 2:
            if entries:
                path, description = entries[-1]
                entries[-1] = (path, f"{description} {line.strip()}".strip())
            continue
        name, _, description = line.strip().partition(" ")
        depth, previous = indent // 2, indent
        del parents[depth:]
        if parents and not parents[-1].endswith("/"):
            problems.append(f"{name} is indented under {parents[-1]}, which is not a folder")
        parents.append("".join(parents[-1:]) + name)
        entries.append((parents[-1], description.strip()))
    return entries, problems


def modules_on_disk() -> set[str]:
    """Every package (as ``dir/``) and module but ``__init__.py`` under the source roots."""
    found: set[str] = set()
    for root in SOURCE_ROOTS:
        for path in (ROOT / root).rglob("*.py"):
            rel = path.relative_to(ROOT)
            if "__pycache__" in rel.parts:
                continue
            if path.name == "__init__.py":
                found.add(rel.parent.as_posix() + "/")
            else:
                found.add(rel.as_posix())
    return found


def layout_problems(architecture: str) -> list[str]:
    block = code_block(section(architecture, LAYOUT_HEADING))
    entries, problems = layout_entries(block)
    listed = {path for path, _ in entries}
    for path, description in entries:
        on_disk = ROOT / path
        if not (on_disk.is_dir() if path.endswith("/") else on_disk.is_file()):
            problems.append(f"{path} is listed but does not exist")
        elif not description:
            problems.append(f"{path} has no line saying what it is for")
    problems += [f"{path} is missing" for path in sorted(modules_on_disk() - listed)]
    return problems


def test_architecture_layout_matches_the_tree() -> None:
    problems = layout_problems(ARCHITECTURE.read_text())
    assert not problems, "ARCHITECTURE.md's layout is out of date:\n" + "\n".join(problems)


def test_layout_check_names_what_is_missing_or_invented() -> None:
    text = ARCHITECTURE.read_text()
    block = code_block(section(text, LAYOUT_HEADING))
    tiles = next(line for line in block.splitlines() if line.strip().startswith("tiles.py"))
    doctored = text.replace(tiles + "\n", "")
    doctored = doctored.replace("\n  vehicles.py ", "\n  lorries.py ", 1)  # spatial's
    assert layout_problems(doctored) == [
        "spatial/lorries.py is listed but does not exist",
        "spatial/vehicles.py is missing",
        "webmap/features/layers/tiles.py is missing",
    ]


def test_layout_entries_follow_the_indentation() -> None:
    block = (
        "webmap/        the app\n"
        "  infra/       infrastructure\n"
        "    db.py      sessions,\n"
        "               and migrations\n"
        "  config.py    settings\n"
        "    x.py       under a file\n"
        "static/        assets\n"
    )
    entries, problems = layout_entries(block)
    assert entries == [
        ("webmap/", "the app"),
        ("webmap/infra/", "infrastructure"),
        ("webmap/infra/db.py", "sessions, and migrations"),
        ("webmap/config.py", "settings"),
        ("webmap/config.pyx.py", "under a file"),
        ("static/", "assets"),
    ]
    assert problems == ["x.py is indented under webmap/config.py, which is not a folder"]


# -- paths and names in the documents ------------------------------------------------------------

PATH = re.compile(r"(?<![\w/.])(?:webmap|spatial)/[\w./]*")
DOTTED = re.compile(r"(?<![\w/.])(?:webmap|spatial)(?:\.[A-Za-z_]\w*)+")


def _resolves(dotted: str) -> bool:
    """Whether ``a.b.c`` is an importable module, or an attribute chain under one."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(found, attribute):
                return False
            found = getattr(found, attribute)
        return True
    return False


def reference_problems(name: str, text: str) -> list[str]:
    """Paths (``webmap/infra/db.py``, ``spatial/``, ``webmap/x/output.publish``) and dotted
    names (``webmap.access.policy_doc``) in ``text`` that do not exist."""
    problems = []
    for ref in sorted(set(PATH.findall(text))):
        ref = ref.rstrip(".")
        if (ROOT / ref).exists():
            continue
        module, _, attribute = ref.rpartition(".")
        dotted = f"{module}.{attribute}".replace("/", ".")
        if not (ROOT / f"{module}.py").is_file() or not _resolves(dotted):
            problems.append(f"{name} names {ref}, which does not exist")
    for ref in sorted(set(DOTTED.findall(text))):
        if not _resolves(ref):
            problems.append(f"{name} names {ref}, which does not exist")
    return problems


def test_module_paths_in_the_docs_exist() -> None:
    problems = [
        problem
        for doc in (README, ARCHITECTURE)
        for problem in reference_problems(doc.name, doc.read_text())
    ]
    assert not problems, "\n".join(problems)


def test_reference_check_names_what_does_not_exist() -> None:
    text = (
        "See `webmap/infra/db.py`, `webmap/features/sharing/output.publish()`, `spatial/`,\n"
        "`webmap/services/packs.py`, `webmap/features/sharing/output.nothing`, and\n"
        "`python -m webmap.access.policy_doc`, `spatial.redaction.public_place_feature`,\n"
        "`webmap.views.api`, `spatial.redaction.no_such_name`.\n"
    )
    assert reference_problems("X", text) == [
        "X names webmap/features/sharing/output.nothing, which does not exist",
        "X names webmap/services/packs.py, which does not exist",
        "X names spatial.redaction.no_such_name, which does not exist",
        "X names webmap.views.api, which does not exist",
    ]
