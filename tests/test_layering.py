"""The dependency direction in DESIGN holds: workflows → grants, workflows → documents, documents → grants,
and never back; nothing outside grants/services reaches for the services' private parts.

Every .py of the project's packages is read with `ast`, so an import inside a function (a lazy one) counts
as much as one at the top of a module.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("grants", "workflows", "documents", "config")

# Which top-level packages each package must never import.
FORBIDDEN = {
    "grants": {"workflows", "documents"},
    "documents": {"workflows"},
}
SERVICES = "grants.services"
BASE = "grants.services._base"

# One stage's module using another's private helpers: found when this test was written; this
# list may only shrink (give the helper a public name in a shared module, then drop it here).
KNOWN_STAGE_PRIVATES = {
    "grants.services.payee_accounts imports the private grants.services.organisations._clean_account",
    "grants.services.payee_accounts imports the private grants.services.organisations._confirmed_recipients",
    "grants.services.payee_accounts imports the private grants.services.organisations._display_name",
    "grants.services.payee_accounts imports the private grants.services.organisations._footer",
    "grants.services.payee_accounts imports the private grants.services.organisations._mail_after_commit",
}


def module_name(path, root=ROOT):
    """The dotted module name of a file under root (a package's __init__ names the package)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_names(path, root=ROOT):
    """Every (imported module, imported name or None) in the file, relative imports resolved."""
    module = module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module
            for alias in node.names:
                yield target, alias.name


def is_private(dotted):
    """A dotted name with a part that starts with one underscore (not a dunder)."""
    return any(part.startswith("_") and not part.startswith("__") for part in dotted.split("."))


def stage_privates(path, root=ROOT):
    """Inside grants/services: the private names one module takes from another (their shared
    private base, _base, excepted), as readable lines."""
    module = module_name(path, root)
    if not module.startswith(SERVICES + "."):
        return []
    found = []
    for target, name in imported_names(path, root):
        if target.startswith(SERVICES + ".") and target != BASE and name and is_private(name):
            found.append(f"{module} imports the private {target}.{name}")
    return found


def arrows_back(path, root=ROOT):
    """The imports of one file that break the layering, as readable lines."""
    module = module_name(path, root)
    top = module.split(".")[0]
    inside_services = module == SERVICES or module.startswith(SERVICES + ".")
    found = []
    for target, name in imported_names(path, root):
        if target.split(".")[0] in FORBIDDEN.get(top, ()):
            found.append(f"{module} imports {f'{target}.{name}' if name else target}")
        if inside_services:
            continue
        full = f"{target}.{name}" if name else target
        if (full == SERVICES or full.startswith(SERVICES + ".")) and is_private(full.removeprefix(SERVICES)):
            found.append(f"{module} imports the private {full}")
    return found


def project_files():
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def test_the_project_has_files_to_read():
    names = {module_name(path) for path in project_files()}
    assert {"grants.models", "workflows.flows", "documents.letters", "config.settings"} <= names


@pytest.mark.parametrize(
    "source, expected",
    [
        ("from workflows import cases", ["grants.x imports workflows.cases"]),
        ("def f():\n    from documents.letters import send", ["grants.x imports documents.letters.send"]),
        ("from .services._base import Upload", ["grants.x imports the private grants.services._base.Upload"]),
        ("from grants.services.assess import _helper", ["grants.x imports the private grants.services.assess._helper"]),
        ("from grants.services import assess", []),
    ],
)
def test_a_backward_arrow_is_seen(tmp_path, source, expected):
    """The checker itself: a lazy import counts, relative imports are resolved, public names pass."""
    (tmp_path / "grants").mkdir()
    path = tmp_path / "grants" / "x.py"
    path.write_text(source)
    assert arrows_back(path, tmp_path) == expected


def test_a_stage_uses_no_other_stage_s_private_helper(tmp_path):
    """decide takes the amount rule from a shared module, not from assess's privates."""
    (tmp_path / "grants" / "services").mkdir(parents=True)
    path = tmp_path / "grants" / "services" / "decide.py"
    path.write_text("from ._base import lock\nfrom .assess import _check_amount_fits_proposal\n")
    assert stage_privates(path, tmp_path) == [
        "grants.services.decide imports the private grants.services.assess._check_amount_fits_proposal"
    ]
    found = {line for path in project_files() for line in stage_privates(path)}
    assert found <= KNOWN_STAGE_PRIVATES, found - KNOWN_STAGE_PRIVATES


def test_no_arrow_runs_back():
    """grants imports neither workflows nor documents; documents does not import workflows; only
    grants/services uses the services' private names."""
    found = [line for path in project_files() for line in arrows_back(path)]
    assert found == []
