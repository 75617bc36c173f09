"""The `backprop-oracle` command: everything that is not a test run.

    backprop-oracle grade my_layers.py [--op affine,relu]  grade a learner's layers (no pytest)
    backprop-oracle template OUT.py [--with-forward] [--lang ja]  a learner's template
    backprop-oracle merge RUN_DIR... -o OUT_DIR            several runs, one report
    backprop-oracle render RUN_DIR [-o OUT_DIR]            re-render one run's report
    backprop-oracle sweep [--seeds N]                      every check over several seeds
    backprop-oracle mutate                                 mutation test of the answer key
    backprop-oracle list [--json]                          ops, families, cases, witnesses

`backprop-oracle COMMAND --help` explains each. The full conformance run, with its
HTML report, is `pytest conformance -n auto` (see the README).
"""
import importlib
import os
import sys

# command -> (module with main(argv, prog), one line, whether that module's own parser
# has the command as its first subcommand: its main then takes [command] + argv)
COMMANDS = {
    "grade": ("backprop_oracle.api", "grade a learner's layers: a module, package or .py file", False),
    "template": ("backprop_oracle.conformance.__main__", "write a learner template", True),
    "merge": ("backprop_oracle.reports.__main__", "merge the results of several runs into one report", True),
    "render": ("backprop_oracle.reports.__main__", "re-render the report of one run", True),
    "sweep": ("backprop_oracle.tools.sweep", "run every check over several seeds", False),
    "mutate": ("backprop_oracle.tools.mutate", "mutation test of the answer key's backward passes", False),
    "list": ("backprop_oracle.catalogue", "list the ops, families, cases and witnesses", False),
}
PROG = "backprop-oracle"


def usage():
    width = max(map(len, COMMANDS))
    lines = [f"usage: {PROG} [--version] COMMAND [--help] ...", "", "commands:"]
    lines += [f"  {name:<{width}}  {summary}" for name, (_, summary, _) in COMMANDS.items()]
    return "\n".join(lines)


def _version():
    from . import __version__
    return f"{PROG} {__version__}"


def dispatch(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip() + "\n\n" + usage())
        return 0
    if argv[0] == "--version":
        print(_version())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"{PROG}: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module_name, _, nested = COMMANDS[name]
    module = importlib.import_module(module_name)
    if nested:          # argparse names a subcommand's program "PROG NAME"
        return module.main([name] + rest, prog=PROG)
    return module.main(rest, prog=f"{PROG} {name}")


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return dispatch(argv)
    except BrokenPipeError:          # `backprop-oracle list --json | head`: the reader left;
        # point stdout at /dev/null so that the flush at exit does not raise again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
