"""Imports point one way: domain code core <- builder <- runner, the engine below what
drives it, and the HTTP surfaces on top (they may import anything).

Walks every import of the project's modules (those inside functions too, which is where
an arrow the wrong way hides) and fails on a new one.
"""

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOMAIN = ("core", "builder", "runner")  # each may import only those before it
# What reads HTTP input or shows pages, wiring and tools: above the domain code.
SURFACE_PARTS = {"api", "web", "views", "management", "migrations", "templatetags", "bench", "soak"}
SURFACE_MODULES = {
    "urls", "admin", "apps", "settings", "health", "context_processors", "webhooks",
    "forms", "step_form", "schedule_form", "wsgi", "asgi", "gunicorn_conf",
}  # fmt: skip
# The engine and what it is made of: none of them imports what drives the engine
# (the broker's actors, the executor, the sweeper, the launch of runs).
ENGINE = {
    "runner.states", "runner.models", "runner.fastsql", "runner.run_state",
    "runner.transition", "runner.steps", "runner.compensation", "runner.engine",
    "runner.throttle", "runner.run_gate", "runner.action_limits",
    "runner.decisions", "runner.for_each", "runner.subflows", "runner.waits",
    "runner.lazy_transaction", "runner.wait_steps", "runner.wait_transitions",
    "runner.subflow_transitions", "runner.run_ending",
    "runner.alert_models",  # models of the runner app, imported by runner.models
}  # fmt: skip


def modules():
    for package in DOMAIN:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield ".".join(path.relative_to(ROOT).with_suffix("").parts), path


def imports_of(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def is_surface(module):
    parts = module.split(".")
    return bool(SURFACE_PARTS & set(parts[1:])) or parts[-1] in SURFACE_MODULES


def wrong_arrows():
    found = []
    project = {name for name, _ in modules()}
    for module, path in modules():
        if is_surface(module):
            continue
        rank = DOMAIN.index(module.split(".")[0])
        for target in set(imports_of(path)):
            head = target.split(".")[0]
            if head in DOMAIN and DOMAIN.index(head) > rank:
                found.append(f"{module} -> {target}")
            above = target in project and target.startswith("runner.") and target not in ENGINE
            if module in ENGINE and above:
                found.append(f"{module} -> {target} (above the engine)")
    return sorted(found)


def engine_cycle():
    """A chain of imports among the engine's modules that comes back to where it started,
    or None. What the engine calls and what calls it back (a child run started, a wait
    ended) are handed the engine's functions, so that none is needed."""
    project = dict(modules())
    edges = {m: set(imports_of(project[m])) & ENGINE - {m} for m in ENGINE if m in project}
    done = set()

    def walk(module, path):
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return None
        done.add(module)
        for target in sorted(edges.get(module, ())):
            if found := walk(target, [*path, module]):
                return found
        return None

    return next(filter(None, (walk(m, []) for m in sorted(edges))), None)


def test_domain_imports_point_one_way():
    assert wrong_arrows() == []


def test_the_engine_modules_import_no_cycle():
    assert engine_cycle() is None


def test_the_walk_sees_imports_inside_functions(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from runner import tasks\n")
    assert "runner.tasks" in set(imports_of(source))
