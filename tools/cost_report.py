"""Print the monthly cost estimate of the reference app's configuration: ``make cost``.

    make cost                                      # every stage, prices.json, the book's region
    make cost CONTEXT="-c stage=prod"              # one stage
    make cost CONTEXT="-c stages=dev,prod" PRICES=my-prices.json REGION=eu-west-1

The configuration is the app's: cdk.json's context with ``-c key=value`` on top, read by
``PlatformConfig.from_context``. Stages: ``-c stages=...`` as the app reads it
(``selected_stages``), else a ``-c stage=...`` given here, else all of them. The region: ``--region``,
else the config's ``region``, else the price book's only region. Nothing calls AWS.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
from typing import Any

from mlops_cdk._validation import ConfigurationError, invalid
from mlops_cdk.app_builder import selected_stages
from mlops_cdk.config import PlatformConfig
from mlops_cdk.cost import PriceBook, estimate
from mlops_cdk.settings import STAGES

ROOT = pathlib.Path(__file__).resolve().parent.parent
NO_BOOK = (
    "cost_report: no price book at {path}. The library ships no prices (they differ per region and change). "
    "Get one with `make prices REGION=<region>` (AWS credentials allowed pricing:GetProducts; the Price List API is "
    "free), or write one by hand from the pricing pages (format: mlops_cdk/cost/price_book.py), then "
    "`make cost PRICES={path}`."
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prices", default=str(ROOT / "prices.json"), help="the price book (default %(default)s)")
    parser.add_argument("--region", default=None, help="the region to price (default: config region, book region)")
    parser.add_argument("-c", "--context", action="append", default=[], metavar="KEY=VALUE",
                        help="a context value over cdk.json's, as with cdk synth")
    parser.add_argument("--cdk-json", default=str(ROOT / "cdk.json"), help="where the context is (default %(default)s)")
    parser.add_argument("--only-deployed", action="store_true",
                        help="price what a deploy creates now: no endpoint for a stage without a model package")
    parser.add_argument("--allow-unpriced", action="store_true",
                        help="show prices missing from the book as 'unpriced' lines instead of failing")
    parser.add_argument("--markdown", action="store_true", help="a Markdown table")
    args = parser.parse_args(argv)
    prices = pathlib.Path(args.prices)
    if not prices.exists():
        print(NO_BOOK.format(path=args.prices), file=sys.stderr)
        return 2
    try:
        overrides = _overrides(args.context)
        configs = configurations({**_cdk_context(pathlib.Path(args.cdk_json)), **overrides}, overrides)
        book = PriceBook.from_file(prices)
        region = args.region or configs[0].region or _only_region(book)
        report = estimate(configs, book, region, only_deployed=args.only_deployed,
                          allow_unpriced=args.allow_unpriced)
    except ConfigurationError as error:
        print(f"cost_report: {error}", file=sys.stderr)
        return 2
    print(report.table(markdown=args.markdown), end="")
    return 0


def configurations(context: dict[str, Any], overrides: dict[str, Any]) -> list[PlatformConfig]:
    """One ``PlatformConfig`` per stage to price, built as ``build_app`` builds them."""
    stages = selected_stages(context)
    if stages is None:
        stages = (context["stage"],) if "stage" in overrides else STAGES
    if len(stages) > 1 and context.get("model_package_arn") not in (None, ""):
        raise invalid("config", "model_package_arn", context["model_package_arn"],
                      "a single stage; set serving.<stage>.model_package_arn per stage instead")
    return [PlatformConfig.from_context({**context, "stage": stage}) for stage in stages]


def _overrides(pairs: list[str]) -> dict[str, str]:
    values = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise invalid("cost_report", "-c", pair, "KEY=VALUE, as with cdk synth -c")
        values[key.strip()] = value
    return values


def _cdk_context(path: pathlib.Path) -> dict[str, Any]:
    try:
        return dict(json.loads(path.read_text()).get("context", {}))
    except (OSError, ValueError) as exc:
        raise invalid("cost_report", "--cdk-json", str(path), f"a readable cdk.json ({exc})") from None


def _only_region(book: PriceBook) -> str:
    if len(book.regions) != 1:
        raise invalid("cost_report", "--region", None,
                      f"one of the book's regions ({', '.join(book.regions)}): make cost REGION=<region>, "
                      "or set the config's region")
    return book.regions[0]


if __name__ == "__main__":
    sys.exit(main())
