"""A price book: what one unit of each billed resource costs, by region, from a JSON file you keep.

The library ships no prices: they differ per region and change, and a number nobody can trace is
worse than none. ``make prices REGION=<region>`` writes a book from the AWS Price List API
(``tools/fetch_prices.py``, needs credentials), or write one by hand from the pricing pages.
Every region carries where its numbers come from and when they were read. The format (JSON)::

    {
      "currency": "USD",
      "regions": {
        "eu-west-1": {
          "source": "AWS Price List Query API (pricing:GetProducts), on-demand",
          "as_of": "2026-12-14",
          "instance_hour": {
            "hosting":    {"ml.m5.large": 0.128, "ml.m5.xlarge": 0.256},
            "training":   {"ml.m5.xlarge": 0.256},
            "processing": {"ml.m5.xlarge": 0.256}
          },
          "lambda": {"arm64": {"gb_second": 0.0000133334, "request": 0.0000002}},
          "serverless_inference": {"gb_second": 0.00002}
        }
      }
    }

* ``instance_hour``: USD per instance-hour, per SageMaker usage: ``hosting`` (real-time endpoints and
  Clarify's shadow endpoints), ``training`` (training jobs) and ``processing`` (processing jobs:
  pipeline steps, Model Monitor and Clarify jobs). Each is optional; an estimate that needs a
  missing one fails naming it.
* ``lambda`` (optional): USD per GB-second and per request, per architecture (``arm64``, ``x86_64``);
  the first (lowest-volume) tier of the duration price.
* ``serverless_inference`` (optional, by hand: the Price List parser does not read it): USD per
  GB-second of SageMaker Serverless Inference compute.
* ``comment`` (optional, any level): free text for humans.

Loading validates everything and names the bad key: ``PriceBook(prices.json)
'regions.eu-west-1.instance_hour.hosting.ml.m5.large': invalid value -1; allowed: ...``.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import pathlib
from collections.abc import Mapping
from typing import Any

from .._validation import REGION_RE, invalid, is_finite_number
from ..lambdas._shared import contract

CURRENCY = "USD"
USAGES = ("hosting", "training", "processing")
ARCHITECTURES = ("arm64", "x86_64")
LAMBDA_PRICES = ("gb_second", "request")
_BOOK_KEYS = ("currency", "regions", "comment")
_REGION_KEYS = ("source", "as_of", "instance_hour", "lambda", "serverless_inference", "comment")
_FETCH_HINT = "make prices REGION={region} (AWS credentials) fetches every instance type of the region"


@dataclasses.dataclass(frozen=True)
class RegionPrices:
    """The prices of one region: where they come from, when they were read, and the numbers."""

    source: str
    as_of: datetime.date
    instance_hour: Mapping[str, Mapping[str, float]]
    lambda_prices: Mapping[str, Mapping[str, float]]
    serverless_gb_second: float | None = None

    def to_mapping(self) -> dict[str, Any]:
        data: dict[str, Any] = {"source": self.source, "as_of": self.as_of.isoformat(),
                                "instance_hour": {u: dict(sorted(p.items())) for u, p in self.instance_hour.items()}}
        if self.lambda_prices:
            data["lambda"] = {a: dict(p) for a, p in self.lambda_prices.items()}
        if self.serverless_gb_second is not None:
            data["serverless_inference"] = {"gb_second": self.serverless_gb_second}
        return data


class PriceBook:
    """USD prices by region: :meth:`from_file` (the JSON above) or :meth:`from_mapping`; validated on loading.

    Asking for a region the book lacks, or a price it does not have, raises ``ValueError`` naming the
    region, usage and instance type (and how to add it).
    """

    def __init__(self, regions: Mapping[str, RegionPrices], *, origin: str = "<mapping>") -> None:
        self._regions = dict(regions)
        self.origin = origin

    # ----------------------------------------------------------- loading
    @classmethod
    def from_file(cls, path: str | pathlib.Path) -> "PriceBook":
        path = pathlib.Path(path)
        try:
            text = path.read_text()
        except OSError as exc:
            raise invalid(f"PriceBook({path})", "path", str(path), f"a readable JSON price book ({exc.strerror})") \
                from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise invalid(f"PriceBook({path})", "(file)", f"line {exc.lineno} column {exc.colno}",
                          f"valid JSON ({exc.msg})") from None
        return cls.from_mapping(data, origin=str(path))

    @classmethod
    def from_mapping(cls, data: Any, *, origin: str = "<mapping>") -> "PriceBook":
        owner = f"PriceBook({origin})"
        _keys(owner, "", data, _BOOK_KEYS, required=("regions",))
        currency = data.get("currency", CURRENCY)
        if currency != CURRENCY:
            raise invalid(owner, "currency", currency, f"{CURRENCY!r} (prices are USD, as the Price List API gives them)")
        regions = data["regions"]
        if not isinstance(regions, Mapping) or not regions:
            raise invalid(owner, "regions", regions, 'an object of region -> prices, e.g. {"eu-west-1": {...}}')
        parsed = {}
        for region, raw in regions.items():
            if not isinstance(region, str) or not REGION_RE.match(region):
                raise invalid(owner, f"regions.{region}", region, "an AWS region name like eu-west-1")
            parsed[region] = _region(owner, f"regions.{region}.", raw)
        return cls(parsed, origin=origin)

    def to_mapping(self) -> dict[str, Any]:
        """The book as JSON data (what :meth:`from_mapping` reads)."""
        return {"currency": CURRENCY, "regions": {r: p.to_mapping() for r, p in sorted(self._regions.items())}}

    # ----------------------------------------------------------- look-ups
    @property
    def regions(self) -> tuple[str, ...]:
        return tuple(sorted(self._regions))

    def region(self, region: str) -> RegionPrices:
        if region not in self._regions:
            raise invalid(f"PriceBook({self.origin})", "region", region,
                          f"a region the book prices: {', '.join(self.regions)}; " + _FETCH_HINT.format(region=region))
        return self._regions[region]

    def instance_hour(self, usage: str, instance_type: str, region: str) -> float:
        """USD per instance-hour of ``instance_type`` for ``usage`` (hosting | training | processing)."""
        prices = self.region(region).instance_hour.get(usage, {})
        if instance_type not in prices:
            known = sorted(prices)
            listed = ", ".join(known[:8]) + (f" and {len(known) - 8} more" if len(known) > 8 else "")
            raise invalid(f"PriceBook({self.origin})", f"regions.{region}.instance_hour.{usage}", instance_type,
                          f"an instance type the book prices there ({listed or 'none'}): add its {usage} price; "
                          + _FETCH_HINT.format(region=region))
        return prices[instance_type]

    def lambda_price(self, architecture: str, region: str) -> tuple[float, float]:
        """(USD per GB-second, USD per request) of Lambda functions on ``architecture``."""
        prices = self.region(region).lambda_prices.get(architecture)
        if prices is None:
            raise invalid(f"PriceBook({self.origin})", f"regions.{region}.lambda", architecture,
                          f"an architecture the book prices there: add lambda.{architecture}.gb_second and .request; "
                          + _FETCH_HINT.format(region=region))
        return prices["gb_second"], prices["request"]

    def serverless_gb_second(self, region: str) -> float | None:
        """USD per GB-second of SageMaker Serverless Inference, if the book has it (it is added by hand)."""
        return self.region(region).serverless_gb_second


# ---------------------------------------------------------------- parsing
def _keys(owner: str, path: str, data: Any, allowed: tuple[str, ...], required: tuple[str, ...] = ()) -> None:
    if not isinstance(data, Mapping):
        raise invalid(owner, path.rstrip(".") or "(file)", data, "a JSON object with keys " + ", ".join(allowed))
    for key in data:
        if key not in allowed:
            raise invalid(owner, f"{path}{key}", data[key], "one of the keys " + ", ".join(allowed))
    for key in required:
        if key not in data:
            raise invalid(owner, f"{path}{key}", None, f"a value: {path}{key} is required")


def _price(owner: str, prop: str, value: Any) -> float:
    if not (is_finite_number(value) and value >= 0):
        raise invalid(owner, prop, value, "a number >= 0 (USD)")
    return float(value)


def _region(owner: str, path: str, raw: Any) -> RegionPrices:
    _keys(owner, path, raw, _REGION_KEYS, required=("source", "as_of"))
    source = raw["source"]
    if not isinstance(source, str) or not source.strip():
        raise invalid(owner, f"{path}source", source, "where the prices come from (a URL, an API, a document)")
    try:
        as_of = datetime.date.fromisoformat(raw["as_of"]) if isinstance(raw["as_of"], str) else None
    except ValueError:
        as_of = None
    if as_of is None:
        raise invalid(owner, f"{path}as_of", raw["as_of"], "the date the prices were read, YYYY-MM-DD")
    instance_hour = raw.get("instance_hour", {})
    _keys(owner, f"{path}instance_hour.", instance_hour, USAGES)
    hours: dict[str, dict[str, float]] = {}
    for usage, prices in instance_hour.items():
        prop = f"{path}instance_hour.{usage}"
        if not isinstance(prices, Mapping):
            raise invalid(owner, prop, prices, 'an object of instance type -> USD per hour, e.g. {"ml.m5.large": 0.1}')
        for instance_type, price in prices.items():
            if not isinstance(instance_type, str) or not contract.INSTANCE_TYPE_RE.match(instance_type):
                raise invalid(owner, f"{prop}.{instance_type}", instance_type, contract.INSTANCE_TYPE_ALLOWED)
        hours[usage] = {t: _price(owner, f"{prop}.{t}", p) for t, p in prices.items()}
    lambdas = raw.get("lambda", {})
    _keys(owner, f"{path}lambda.", lambdas, ARCHITECTURES)
    lambda_prices = {}
    for architecture, prices in lambdas.items():
        prop = f"{path}lambda.{architecture}."
        _keys(owner, prop, prices, LAMBDA_PRICES, required=LAMBDA_PRICES)
        lambda_prices[architecture] = {k: _price(owner, f"{prop}{k}", prices[k]) for k in LAMBDA_PRICES}
    serverless = raw.get("serverless_inference")
    gb_second = None
    if serverless is not None:
        _keys(owner, f"{path}serverless_inference.", serverless, ("gb_second",), required=("gb_second",))
        gb_second = _price(owner, f"{path}serverless_inference.gb_second", serverless["gb_second"])
    return RegionPrices(source.strip(), as_of, hours, lambda_prices, gb_second)


__all__ = ["ARCHITECTURES", "CURRENCY", "USAGES", "PriceBook", "RegionPrices"]
