"""Write (or refresh one region of) the price book ``make cost`` reads, from the AWS Price List API.

    make prices REGION=eu-west-1            # -> prices.json (PRICES=path to write elsewhere)

Needs AWS credentials allowed ``pricing:GetProducts`` (the Price List API is free); it is the only
command of the repository that calls AWS. Other regions already in the book are kept. What is
read and how: ``mlops_cdk/cost/price_list.py``; the book's format: ``mlops_cdk/cost/price_book.py``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import pathlib
import sys
from typing import Any

from mlops_cdk._validation import ConfigurationError
from mlops_cdk.cost.price_book import PriceBook
from mlops_cdk.cost.price_list import fetch_region

ROOT = pathlib.Path(__file__).resolve().parent.parent
# The Price List Query API is served from a few regions only; us-east-1 answers for every region's prices.
PRICING_ENDPOINT_REGION = "us-east-1"


def pricing_client() -> Any:
    import boto3

    return boto3.client("pricing", region_name=PRICING_ENDPOINT_REGION)


def main(argv: list[str] | None = None, client: Any = None, today: datetime.date | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--region", required=True, help="the region whose prices to fetch, e.g. eu-west-1")
    parser.add_argument("--output", default=str(ROOT / "prices.json"), help="the price book to write (default %(default)s)")
    args = parser.parse_args(argv)
    output = pathlib.Path(args.output)
    today = today or datetime.datetime.now(datetime.timezone.utc).date()
    try:
        existing = PriceBook.from_file(output).to_mapping() if output.exists() else {"currency": "USD", "regions": {}}
        if client is None:
            client = pricing_client()
        prices, warnings = fetch_region(client, args.region, today)
        existing["regions"][args.region] = prices.to_mapping()
        book = PriceBook.from_mapping(existing, origin=str(output))  # validate what is written
    except ConfigurationError as error:
        print(f"fetch_prices: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # botocore's: no credentials, access denied, no network
        if not type(error).__module__.startswith("botocore"):
            raise
        print(f"fetch_prices: the Price List API could not be asked ({error}); it needs AWS credentials "
              "allowed pricing:GetProducts", file=sys.stderr)
        return 1
    for warning in warnings:
        print(f"fetch_prices: {warning}", file=sys.stderr)
    output.write_text(json.dumps(book.to_mapping(), indent=2) + "\n")
    counts = ", ".join(f"{len(p)} {usage}" for usage, p in prices.instance_hour.items())
    print(f"{output}: {args.region} as of {today.isoformat()}: {counts} instance prices; "
          f"Lambda {', '.join(prices.lambda_prices) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
