"""The `backprop-oracle` command, the list of ops, and the package as a user installs it:
one namespace that nothing in the current folder can shadow, a pytest plugin that stays
dormant in a user's own test run."""
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from backprop_oracle import catalogue, cli
from backprop_oracle.oracle import registry
from backprop_oracle.oracle.spec import ORACLES
from tests.conftest import ROOT
from backprop_oracle.reports.model import load_results

SUBCOMMANDS = ("grade", "template", "merge", "render", "sweep", "mutate", "list")


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(extra)
    return env


def _command(*args, cwd, env=None, timeout=120):
    """The installed console script, as a user types it."""
    script = shutil.which("backprop-oracle", path=os.path.dirname(sys.executable)) \
        or shutil.which("backprop-oracle")
    argv = [script, *args] if script else [sys.executable, "-m", "backprop_oracle.cli", *args]
    return subprocess.run(argv, cwd=cwd, env=env or _env(), capture_output=True, text=True,
                          timeout=timeout)


def test_every_subcommand_is_listed_and_answers_help(capsys):
    assert set(cli.COMMANDS) == set(SUBCOMMANDS)
    assert cli.main(["--help"]) == 0
    top = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert f"\n  {name} " in top
        with pytest.raises(SystemExit) as exit_:
            cli.main([name, "--help"])
        assert exit_.value.code == 0
        text = capsys.readouterr().out
        # the program is named once: "backprop-oracle merge", not "backprop-oracle merge merge"
        assert text.startswith(f"usage: backprop-oracle {name} "), text[:200]
        assert f"{name} {name}" not in text


def test_an_unknown_command_is_refused_with_the_list(capsys):
    assert cli.main(["grde"]) == 2
    err = capsys.readouterr().err
    assert "unknown command 'grde'" in err and "template" in err


def test_the_console_script_answers_outside_the_clone(tmp_path):
    done = _command("--help", cwd=tmp_path)
    assert done.returncode == 0 and "backprop-oracle template" in done.stdout
    version = _command("--version", cwd=tmp_path)
    assert version.stdout.strip() == f"backprop-oracle {importlib.metadata.version('backprop-oracle')}"


def test_python_dash_m_is_the_command(tmp_path):
    done = subprocess.run([sys.executable, "-m", "backprop_oracle", "list", "--op", "affine"],
                          cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "affine" in done.stdout and "1 ops" in done.stdout


def test_list_json_is_the_registry():
    entries = catalogue.catalogue()
    specs = registry.all_specs()
    assert [e["op"] for e in entries] == [s.name for s in specs]
    for entry, spec in zip(entries, specs):
        assert entry["family"] == spec.family and entry["class"] == spec.impl
        assert [c["name"] for c in entry["cases"]] == \
            [c.name for c in spec.cases] + [g.name for g in spec.golden]
        for case in entry["cases"]:
            assert set(case["witnesses"]) <= set(ORACLES)
            assert ("golden" in case["witnesses"]) == case["golden"]
        for oracle, state in entry["witnesses"].items():
            assert state == "checks" or state == spec.unavailable[oracle]
    json.dumps(entries)     # plain data


def test_list_json_on_the_command_line(capsys):
    assert cli.main(["list", "--json", "--family", "recurrent"]) == 0
    document = json.loads(capsys.readouterr().out)
    entries = document["ops"]
    assert entries and {e["family"] for e in entries} == {"recurrent"}
    assert document["families"] == {"recurrent": [e["op"] for e in entries]}
    assert set(document["witnesses"]) == set(ORACLES)
    assert document["witnesses"]["fd"]["installed"] is True
    assert document["counts"] == {"ops": len(entries), "families": 1,
                                  "cases": sum(len(e["cases"]) for e in entries)}
    lstm = next(e for e in entries if e["op"] == "lstm")
    assert lstm["witnesses"]["torch"] == "checks" and lstm["cases"][0]["why"]


def test_list_text_counts_and_unknown_names(capsys):
    assert cli.main(["list", "--op", "affine,lstm", "-v"]) == 0
    out = capsys.readouterr().out
    assert "affine" in out and "lstm" in out and out.rstrip().endswith(
        f"2 ops, 2 families, {len(registry.get('affine').cases) + len(registry.get('lstm').cases)} cases")
    for bad, says in ((["--family", "nope"], "no family named 'nope'"),
                      (["--op", "affline"], "no op named 'affline'")):
        with pytest.raises(SystemExit) as exit_:
            cli.main(["list", *bad])
        assert exit_.value.code == 2
        assert says in capsys.readouterr().err


def test_a_closed_pipe_is_not_a_traceback(tmp_path):
    script = (f"{sys.executable} -m backprop_oracle.cli list --json | head -c 20 >/dev/null")
    done = subprocess.run(["bash", "-c", "set -o pipefail; " + script], cwd=tmp_path, env=_env(),
                          capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr


def _shadowing_folder(path):
    """A user's folder with modules named like the repository's top-level folders."""
    (path / "impl.py").write_text("raise RuntimeError('the user\\'s own impl.py was imported')\n")
    for name in ("oracle", "reports", "conformance"):
        (path / name).mkdir()
        (path / name / "__init__.py").write_text(f"raise RuntimeError('the user\\'s {name}/')\n")


def test_the_template_comes_from_the_answer_key_whatever_the_current_folder_holds(tmp_path):
    _shadowing_folder(tmp_path)
    done = _command("template", "mine.py", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "mine.py").read_text()
    assert "class Affine" in text and "class LSTM" in text


# -- installed as a user installs it -----------------------------------------------------
def _setuptools_is_recent():
    try:
        major = int(importlib.metadata.version("setuptools").split(".")[0])
    except importlib.metadata.PackageNotFoundError:
        return False
    return major >= 77


def _not_source(folder, names):
    """What .gitignore leaves out: environments, build output, reports, caches."""
    skipped = {".git", ".venv", ".venv-ci", "build", "__pycache__", ".pytest_cache", ".gl", ".whl"}
    in_reports = os.path.basename(folder) == "reports"
    return {n for n in names if n in skipped or n.endswith(".egg-info")
            or (in_reports and (n == "out" or n.startswith(".out")))}


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A non-editable `pip install .` into a folder outside the clone (the site-packages of a
    project's own .venv): {"site": that folder, "project": the project folder}."""
    if subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True).returncode:
        pytest.skip("pip is not available in this environment")
    project = tmp_path_factory.mktemp("project")
    site = project / ".venv" / "site-packages"
    # Built from a copy: setuptools builds in the source folder's build/, which two xdist
    # workers (each with this module's fixture) or a stale folder would share.
    source = tmp_path_factory.mktemp("source") / "backprop-oracle"
    shutil.copytree(ROOT, source, ignore=_not_source)
    argv = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-compile",
            "--target", str(site), str(source)]
    if _setuptools_is_recent():      # build with this environment's setuptools: no index needed
        argv.insert(4, "--no-build-isolation")
    done = subprocess.run(argv, cwd=project, env=_env(PIP_DISABLE_PIP_VERSION_CHECK="1"),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return {"site": site, "project": project}


def _python(code, cwd, site):
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                          env=_env(PYTHONPATH=str(site)), timeout=120)


def test_installed_one_namespace_that_the_current_folder_cannot_shadow(installed, tmp_path):
    _shadowing_folder(tmp_path)
    site = installed["site"]
    done = _python("import backprop_oracle.impl as i, backprop_oracle.oracle.engine, "
                   "backprop_oracle.reports.render as r, backprop_oracle.conformance.plugin; "
                   "print(i.__file__); print(r.__file__)", tmp_path, site)
    assert done.returncode == 0, done.stderr
    assert all(line.startswith(str(site)) for line in done.stdout.split()), done.stdout
    for top in ("impl", "oracle", "reports", "conformance", "tools"):
        assert not (site / top).exists(), f"{top} was installed as a top-level package"
        gone = _python(f"import {top}", installed["project"], site)
        assert gone.returncode != 0 and "ModuleNotFoundError" in gone.stderr, (top, gone.stderr)


def test_installed_grade_works_from_a_folder_that_would_shadow_it(installed, tmp_path):
    _shadowing_folder(tmp_path)
    code = ("import backprop_oracle as bo\n"
            "from backprop_oracle.impl import Relu\n"
            "class Mine(Relu):\n"
            "    def backward(self, dout):\n"
            "        return -super().backward(dout)\n"
            "r = bo.grade({'Relu': Mine}, ops='relu', oracles='fd', dtypes='float64')\n"
            "print(r.ok, r.attempted, [p.what for p in r.problems])\n")
    done = _python(code, tmp_path, installed["site"])
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("False") and "sign flipped" in done.stdout, done.stdout


def test_installed_it_ships_the_report_templates_and_data(installed):
    package = installed["site"] / "backprop_oracle"
    for name in ("base.html", "index.html", "op.html", "style.css", "tolerance.html"):
        assert (package / "reports" / "templates" / name).is_file(), name
    assert (package / "tools" / "equivalent_mutants.txt").is_file()
    assert (package / "conformance" / "test_ops.py").is_file()


def test_installed_the_suite_runs_by_its_module_name_from_anywhere(installed, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--pyargs", "backprop_oracle.conformance", "-p",
         "no:cacheprovider", "-q", "-n", "0", "--op", "add,mul", "--oracle", "golden",
         "--report-dir", str(tmp_path / "out")],
        cwd=tmp_path, env=_env(PYTHONPATH=str(installed["site"])), capture_output=True, text=True,
        timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]
    results = load_results(tmp_path / "out" / "results.json")
    assert results["records"] and {r["op"] for r in results["records"]} == {"add", "mul"}
    assert "passed" in done.stdout


USER_CONFTEST = '''
def pytest_addoption(parser):      # names the suite uses too: they must not clash
    parser.addoption("--device", default="cpu")
    parser.addoption("--seed", type=int, default=1)
    parser.addoption("--impl", default=None)
'''
USER_TEST = '''
import sys
def test_mine(request):
    assert request.config.getoption("device") == "gpu9"
    loaded = sorted(m for m in sys.modules if m.startswith("backprop_oracle"))
    assert "backprop_oracle.conformance.plugin" not in loaded, loaded
    assert "torch" not in sys.modules and "jax" not in sys.modules
'''


def _user_project(path):
    (path / "conftest.py").write_text(textwrap.dedent(USER_CONFTEST))
    (path / "test_mine.py").write_text(textwrap.dedent(USER_TEST))


def _user_pytest(cwd, **env):
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "--device", "gpu9"], cwd=cwd, env=_env(**env), capture_output=True,
                          text=True, timeout=120)


def test_the_plugin_is_dormant_in_a_users_own_pytest_run(tmp_path):
    _user_project(tmp_path)
    done = _user_pytest(tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout


def test_the_plugin_is_dormant_with_the_package_in_the_projects_venv(installed):
    """pytest run in a project whose .venv holds the package does not collect the venv,
    and neither does the plugin wake up for it."""
    _user_project(installed["project"])
    done = _user_pytest(installed["project"], PYTHONPATH=str(installed["site"]))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout


def test_grade_on_the_command_line(tmp_path):
    learner = os.path.join(ROOT, "tests", "learners", "mistake_sign.py")
    done = _command("grade", learner, "--op", "sigmoid,relu", "--oracle", "fd", "--dtype",
                    "float64", "--report-dir", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr      # not everything passed
    assert "sign flipped" in done.stdout and "sigmoid" in done.stdout
    assert load_results(tmp_path / "out" / "results.json")["records"]
    fine = _command("grade", learner, "--op", "relu", "--oracle", "fd", "--dtype", "float64",
                    cwd=tmp_path)
    assert fine.returncode == 0 and "all passed" in fine.stdout
