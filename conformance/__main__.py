"""Commands of the suite besides `pytest conformance`.

    python -m backprop_oracle.conformance template my_layers.py [--with-forward] [--lang ja]

writes a template of every layer of the answer key for a learner to fill in.
"""
import argparse
import os
import shlex
import sys

from ..reports.i18n import LANGS, default_lang
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
    template.add_argument("--lang", choices=LANGS, default=None,
                          help="the language of the instructions (default: ja under a Japanese "
                               "locale, else en); the code is the same")
    args = parser.parse_args(argv)
    if os.path.exists(args.out) and not args.force:
        parser.error(f"{args.out} exists; pass --force to overwrite it")
    lang = args.lang or default_lang()
    text = make_template(os.path.basename(args.out), with_forward=args.with_forward, lang=lang)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    grade = f"pytest conformance --impl {shlex.quote(args.out)} -n auto" + (
        f" --lang {lang}" if lang != "en" else "")
    print(f"{args.out} を書きました。採点するには: {grade}" if lang == "ja"
          else f"wrote {args.out}; grade it with: {grade}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
