"""Commands of the suite besides `pytest conformance`.

    python -m backprop_oracle.conformance template my_layers.py [--with-forward]

writes a template of every layer of the answer key for a learner to fill in.
"""
import argparse
import os
import sys

from .template import make_template


def main(argv=None, prog=None):
    parser = argparse.ArgumentParser(prog=prog or "python -m backprop_oracle.conformance")
    commands = parser.add_subparsers(dest="command", required=True)
    template = commands.add_parser(
        "template", help="write a learner template: every class of impl, backward left to write")
    template.add_argument("out", help="the .py file to write (refused if it exists)")
    template.add_argument("--with-forward", action="store_true",
                          help="copy each forward from the answer key (default: left to write too)")
    template.add_argument("--force", action="store_true", help="overwrite an existing file")
    args = parser.parse_args(argv)
    if os.path.exists(args.out) and not args.force:
        parser.error(f"{args.out} exists; pass --force to overwrite it")
    text = make_template(os.path.basename(args.out), with_forward=args.with_forward)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {args.out}; grade it with: pytest conformance --impl {args.out} -n auto")
    return 0


if __name__ == "__main__":
    sys.exit(main())
