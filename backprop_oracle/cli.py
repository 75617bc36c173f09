"""The `backprop-oracle` command: everything that is not a test run.

    backprop-oracle template OUT.py [--with-forward]   a learner's template
    backprop-oracle merge RUN_DIR... -o OUT_DIR        several runs, one report
    backprop-oracle render RUN_DIR [-o OUT_DIR]        re-render one run's report
    backprop-oracle sweep [--seeds N]                  every check over several seeds
    backprop-oracle mutate                             mutation test of the answer key
    backprop-oracle list [--json]                      ops, families, cases, witnesses

A test run is `pytest conformance -n auto` (see the README).
"""
import sys

COMMANDS = {
    "template": ("backprop_oracle.conformance.__main__", "write a learner template"),
    "merge": ("backprop_oracle.reports.__main__", "merge the results of several runs into one report"),
    "render": ("backprop_oracle.reports.__main__", "re-render the report of one run"),
    "sweep": ("backprop_oracle.tools.sweep", "run every check over several seeds"),
    "mutate": ("backprop_oracle.tools.mutate", "mutation test of the answer key's backward passes"),
    "list": ("backprop_oracle.catalogue", "list the ops, families, cases and witnesses"),
}


def _usage():
    width = max(map(len, COMMANDS))
    lines = ["usage: backprop-oracle COMMAND [--help] ...", "", "commands:"]
    lines += [f"  {name:<{width}}  {summary}" for name, (_, summary) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv=None):
    import importlib
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip() + "\n\n" + _usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"backprop-oracle: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    if module.__name__.endswith("reports.__main__"):
        rest = [name] + rest                 # that module takes merge/render itself
    elif module.__name__.endswith("conformance.__main__"):
        rest = ["template"] + rest
    return module.main(rest, prog=f"backprop-oracle {name}")


if __name__ == "__main__":
    sys.exit(main())
