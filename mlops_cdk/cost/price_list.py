"""A price book region from the AWS Price List Query API (``pricing:GetProducts``): SageMaker instances, Lambda.

``get_products`` answers with ``PriceList``, a list of JSON *strings*, one product each::

    {"product": {"productFamily": "ML Instance", "sku": "...",
                 "attributes": {"regionCode": "eu-west-1", "component": "Hosting",
                                "instanceName": "ml.m5.large", "usagetype": "EU-Host:ml.m5.large", ...}},
     "terms": {"OnDemand": {"<sku>.<offer>": {"priceDimensions": {"<rate>": {
         "unit": "Hrs", "beginRange": "0", "pricePerUnit": {"USD": "0.1280000000"}}}}}}, ...}

SageMaker: ``ServiceCode=AmazonSageMaker``, ``productFamily="ML Instance"``, ``component`` one of
``Hosting``, ``Training``, ``Processing`` (usage types ``<region>-Host:``, ``-Train:``,
``-Processing:<instance type>``; other usage types of a component, such as spot or
inference-component variants, are skipped). Lambda: ``ServiceCode=AWSLambda``,
``productFamily="Serverless"``, ``group`` ``AWS-Lambda-Duration[-ARM]`` (GB-seconds, first tier)
and ``AWS-Lambda-Requests[-ARM]``. Only on-demand terms are read. The client is passed in
(``boto3.client("pricing", region_name="us-east-1")``), so this module calls nothing itself.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .._validation import invalid
from ..lambdas._shared import contract
from .price_book import RegionPrices

SAGEMAKER, LAMBDA = "AmazonSageMaker", "AWSLambda"
# Price List component -> (price book usage, the usage type's kind before ':').
COMPONENTS = {"Hosting": ("hosting", "Host"), "Training": ("training", "Train"),
              "Processing": ("processing", "Processing")}
LAMBDA_GROUPS = {"AWS-Lambda-Duration-ARM": ("arm64", "gb_second"), "AWS-Lambda-Requests-ARM": ("arm64", "request"),
                 "AWS-Lambda-Duration": ("x86_64", "gb_second"), "AWS-Lambda-Requests": ("x86_64", "request")}
SOURCE = ("AWS Price List Query API (pricing:GetProducts), on-demand: AmazonSageMaker ML Instance "
          "Hosting/Training/Processing, AWSLambda Serverless")
_USAGE_TYPE_RE = re.compile(r"^(?:[A-Z0-9]+-)?(?P<kind>[A-Za-z]+):(?P<instance>ml\.\S+)$")


def queries(region: str) -> list[tuple[str, list[dict[str, str]]]]:
    """(ServiceCode, Filters) of every ``get_products`` call a region's book needs."""
    def match(field: str, value: str) -> dict[str, str]:
        return {"Type": "TERM_MATCH", "Field": field, "Value": value}

    sagemaker = [(SAGEMAKER, [match("productFamily", "ML Instance"), match("regionCode", region),
                              match("component", component)]) for component in COMPONENTS]
    lambdas = [(LAMBDA, [match("productFamily", "Serverless"), match("regionCode", region), match("group", group)])
               for group in LAMBDA_GROUPS]
    return sagemaker + lambdas


def get_products(client: Any, service_code: str, filters: list[dict[str, str]]) -> Iterator[str]:
    """Every ``PriceList`` item of a query, following ``NextToken``."""
    token = None
    while True:
        page = client.get_products(ServiceCode=service_code, Filters=filters, FormatVersion="aws_v1",
                                   MaxResults=100, **({"NextToken": token} if token else {}))
        yield from page.get("PriceList", [])
        token = page.get("NextToken")
        if not token:
            return


def fetch_region(client: Any, region: str, today: datetime.date) -> tuple[RegionPrices, list[str]]:
    """The region's prices (as of ``today``) and warnings about products skipped or in conflict."""
    items: list[str] = []
    for service_code, filters in queries(region):
        items.extend(get_products(client, service_code, filters))
    hours, warnings = instance_prices(items, region)
    lambdas, lambda_warnings = lambda_prices(items, region)
    if not hours:
        raise invalid("fetch_region", "region", region, "a region with SageMaker prices in the Price List API")
    return RegionPrices(SOURCE, today, hours, lambdas), warnings + lambda_warnings


def instance_prices(items: Iterable[str], region: str) -> tuple[dict[str, dict[str, float]], list[str]]:
    """USD per instance-hour by usage (hosting, training, processing) and instance type, and warnings."""
    prices: dict[str, dict[str, float]] = {}
    warnings: list[str] = []
    for product, attributes in _products(items, warnings):
        if product.get("productFamily") != "ML Instance" or attributes.get("regionCode", region) != region:
            continue
        if attributes.get("component") not in COMPONENTS:
            continue
        usage, kind = COMPONENTS[attributes["component"]]
        match = _USAGE_TYPE_RE.match(attributes.get("usagetype", ""))
        if match is None or match["kind"] != kind:
            continue  # spot, inference components and other variants of the component
        instance_type = attributes.get("instanceName") or match["instance"]
        if not contract.INSTANCE_TYPE_RE.match(instance_type):
            warnings.append(f"skipped {attributes.get('usagetype')}: {instance_type!r} is not an instance type")
            continue
        price = _hourly(product)
        if price is not None:
            _keep(prices.setdefault(usage, {}), instance_type, price, f"{usage} {instance_type}", warnings)
    return prices, warnings


def lambda_prices(items: Iterable[str], region: str) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Lambda USD per GB-second (first tier) and per request, by architecture, and warnings."""
    found: dict[str, dict[str, float]] = {}
    warnings: list[str] = []
    for product, attributes in _products(items, warnings):
        group = attributes.get("group")
        if product.get("productFamily") != "Serverless" or group not in LAMBDA_GROUPS:
            continue
        if attributes.get("regionCode") != region:
            continue  # location "Any": the free tier
        architecture, kind = LAMBDA_GROUPS[group]
        dimensions = [d for d in _dimensions(product) if _number(d.get("beginRange", "0")) == 0]
        price = max((p for p in map(_usd, dimensions) if p), default=None)
        if price is not None:
            _keep(found.setdefault(architecture, {}), kind, price, f"lambda {architecture} {kind}", warnings)
    complete = {a: p for a, p in found.items() if set(p) == {"gb_second", "request"}}
    warnings += [f"lambda {a}: no {'request' if 'gb_second' in p else 'gb_second'} price, left out"
                 for a, p in found.items() if a not in complete]
    return complete, warnings


# ---------------------------------------------------------------- helpers
def _products(items: Iterable[Any], warnings: list[str]) -> Iterator[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    """(document, product attributes) of each item; malformed items are skipped with a warning."""
    for item in items:
        try:
            document = json.loads(item) if isinstance(item, str) else item
            product = document["product"]
            attributes = product.get("attributes", {})
        except (ValueError, TypeError, KeyError, AttributeError):
            warnings.append(f"skipped a malformed Price List item: {str(item)[:60]!r}")
            continue
        if isinstance(attributes, Mapping):
            yield {**product, "terms": document.get("terms", {})}, attributes


def _dimensions(product: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    terms = product.get("terms", {}).get("OnDemand", {})
    return [d for term in terms.values() if isinstance(term, Mapping)
            for d in (term.get("priceDimensions") or {}).values() if isinstance(d, Mapping)]


def _hourly(product: Mapping[str, Any]) -> float | None:
    prices = [_usd(d) for d in _dimensions(product) if str(d.get("unit", "")).lower() in ("hrs", "hours", "hour")]
    return max((p for p in prices if p), default=None)


def _usd(dimension: Mapping[str, Any]) -> float | None:
    value = _number((dimension.get("pricePerUnit") or {}).get("USD"))
    return value if value is not None and value > 0 else None  # 0: a free-tier or placeholder row


def _number(text: Any) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if value == value and value not in (float("inf"), float("-inf")) else None


def _keep(prices: dict[str, float], key: str, price: float, label: str, warnings: list[str]) -> None:
    """Two products for the same thing: keep the higher price (an estimate errs high) and say so."""
    if key in prices and prices[key] != price:
        warnings.append(f"{label}: prices {prices[key]} and {price} found; kept {max(prices[key], price)}")
    prices[key] = max(prices.get(key, price), price)


__all__ = ["COMPONENTS", "LAMBDA_GROUPS", "SOURCE", "fetch_region", "get_products", "instance_prices",
           "lambda_prices", "queries"]
