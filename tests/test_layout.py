"""The package layout reads as the data flow, and imports run one way.

Every module of `qa/` is parsed with `ast` (lazy imports inside functions count too)
and placed in a stage:

    base (config, types, errors, text) -> ingest -> retrieval -> store -> answering
    -> pipeline (and the public `qa/__init__`) -> measure, train -> cli, chat

A module may import its own stage and earlier ones, never a later one, and no set of
modules may import each other in a circle. Only the command line prints or exits.
The checker itself is tested on a small package written here, so it can fail.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import REPO

STAGES = [
    ("base", ("qa.config", "qa.types", "qa.errors", "qa.text")),
    ("ingest", ("qa.ingest",)),
    ("retrieval", ("qa.retrieval",)),
    ("store", ("qa.store",)),
    ("answering", ("qa.answering",)),
    ("pipeline", ("qa.pipeline", "qa")),
    ("measure", ("qa.measure", "qa.train")),
    ("interface", ("qa.cli", "qa.__main__", "qa.chat")),
]
PRINTS_ALLOWED = {"qa.cli", "qa.__main__"}


def modules(root: Path, package: str = "qa") -> dict[str, Path]:
    """Dotted module name -> file, for every .py under root/package (a package is its __init__)."""
    out = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The package modules `name` imports, relative imports resolved, anywhere in the file."""
    is_pkg = path.name == "__init__.py"
    here = name.split(".") if is_pkg else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(here[:len(here) - node.level + 1]) if node.level else ""
            mod = ".".join(p for p in (base, node.module or "") if p)
            targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in known else mod for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in known:          # `import qa.retrieval.dense.x` -> the module it names
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
    return found


def stage(name: str) -> int:
    best = None
    for i, (_, prefixes) in enumerate(STAGES):
        for p in prefixes:
            if name == p or name.startswith(p + ".") and p != "qa":
                if best is None or len(p) > best[1]:
                    best = (i, len(p))
    if best is None:
        raise AssertionError(f"{name} belongs to no stage: add it to a stage in tests/test_layout.py")
    return best[0]


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan 1972)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def problems(root: Path) -> list[str]:
    known = modules(root)
    graph = {name: imports(name, path, known) for name, path in known.items()}
    out = []
    for name, targets in sorted(graph.items()):
        for t in sorted(targets):
            a, b = stage(name), stage(t)
            if b > a:
                out.append(f"{name} ({STAGES[a][0]}) imports {t} ({STAGES[b][0]}): against the flow")
    for comp in circles(graph):
        out.append("import circle: " + " <-> ".join(comp))
    return out


def test_imports_run_one_way():
    found = problems(REPO)
    assert not found, "\n".join(found)


def test_only_the_command_line_prints_or_exits():
    bad = []
    for name, path in modules(REPO).items():
        if name in PRINTS_ALLOWED:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                f = node.func
                called = f.id if isinstance(f, ast.Name) else f"{getattr(f.value, 'id', '')}.{f.attr}" \
                    if isinstance(f, ast.Attribute) else ""
                if called in ("print", "exit", "sys.exit", "os._exit"):
                    bad.append(f"{name}:{node.lineno} calls {called}")
            elif isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) \
                    and getattr(node.exc.func, "id", "") == "SystemExit":
                bad.append(f"{name}:{node.lineno} raises SystemExit")
    assert bad == []


def test_every_module_opens_with_a_docstring():
    missing = [name for name, path in modules(REPO).items()
               if path.stat().st_size and not ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))]
    assert missing == []


def test_modules_stay_readable_in_one_sitting():
    long = {name: n for name, path in modules(REPO).items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > 300}
    assert long == {}


def _package(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text('"""A module."""\n' + text, encoding="utf-8")
    return root


def test_the_checker_names_a_circle_and_a_backward_import(tmp_path):
    root = _package(tmp_path, {
        "qa/__init__.py": "",
        "qa/config.py": "",
        "qa/ingest/__init__.py": "",
        "qa/ingest/read.py": "from . import clean\n",
        "qa/ingest/clean.py": "def f():\n    from .read import x\n",        # a lazy import closes the circle
        "qa/retrieval/__init__.py": "",
        "qa/retrieval/search.py": "from ..config import X\nfrom ..ingest import read\n",
        "qa/answering/__init__.py": "",
        "qa/answering/answer.py": "from qa.retrieval.search import search\n",
        "qa/ingest/bad.py": "import qa.answering.answer\n",                 # ingest reaching forward
    })
    found = problems(root)
    assert "import circle: qa.ingest.clean <-> qa.ingest.read" in found
    assert "qa.ingest.bad (ingest) imports qa.answering.answer (answering): against the flow" in found
    assert len(found) == 2


@pytest.mark.parametrize("name,expected", [("qa", "pipeline"), ("qa.cli", "interface"),
                                           ("qa.retrieval.search", "retrieval"), ("qa.text", "base")])
def test_stages_of_known_modules(name, expected):
    assert STAGES[stage(name)][0] == expected


UNSAFE_MODULES = {"pickle", "cPickle", "marshal", "shelve", "dill", "cloudpickle", "joblib"}


def unsafe_loaders(root: Path, package: str = "qa") -> list[str]:
    """Every use of a loader that can run code: pickle and its kin, eval/exec, np.load without
    allow_pickle=False, torch.load without weights_only=True, yaml.load, from_pretrained without
    use_safetensors=True (a .bin checkpoint is a pickle)."""
    found = []
    for name, path in modules(root, package).items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            where = f"{name}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Import):
                found += [f"{where} imports {a.name}" for a in node.names if a.name.split(".")[0] in UNSAFE_MODULES]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in UNSAFE_MODULES:
                found.append(f"{where} imports {node.module}")
            elif isinstance(node, ast.Call):
                f = node.func
                called = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
                owner = f.value.id if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) else ""
                kw = {k.arg: k.value for k in node.keywords}

                def is_const(key, value):
                    return isinstance(kw.get(key), ast.Constant) and kw[key].value is value
                if isinstance(f, ast.Name) and called in ("eval", "exec"):
                    found.append(f"{where} calls {called}()")
                elif called == "load" and owner in ("np", "numpy") and not is_const("allow_pickle", False):
                    found.append(f"{where} np.load without allow_pickle=False")
                elif called == "load" and owner == "torch" and not is_const("weights_only", True):
                    found.append(f"{where} torch.load without weights_only=True")
                elif called == "load" and owner == "yaml":
                    found.append(f"{where} yaml.load")
                elif called == "from_pretrained" and not is_const("use_safetensors", True):
                    found.append(f"{where} from_pretrained without use_safetensors=True")
    return found


def test_no_loader_that_can_run_code():
    assert unsafe_loaders(REPO) == []


def test_the_unsafe_loader_check_can_fail(tmp_path):
    pkg = tmp_path / "qa"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "bad.py").write_text("import pickle\nimport numpy as np\nx = np.load('a.npy')\ny = eval('1')\n"
                                "from transformers import AutoModel\nm = AutoModel.from_pretrained('x')\n")
    got = unsafe_loaders(tmp_path)
    assert len(got) == 4 and any("pickle" in g for g in got) and any("eval" in g for g in got)


def test_dependency_floors_where_security_fixes_require_them():
    from importlib.metadata import version
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert '"gradio[mcp]>=6.20,' in text
    major, minor = (int(x) for x in version("gradio").split(".")[:2])
    assert (major, minor) >= (6, 20)
