"""`_validation.is_token` reads aws-cdk-lib's token encoding in Python: it must answer as `Token.is_unresolved` does."""

import math

import jsii
import pytest
from aws_cdk import App, Aws, Duration, Fn, INumberProducer, IStringProducer, Lazy, Stack, Token
from aws_cdk import aws_s3 as s3

from mlops_cdk._validation import is_token


@jsii.implements(IStringProducer, INumberProducer)
class _Producer:
    def produce(self, context):
        return 3


def _values():
    stack = Stack(App(), "S")
    bucket = s3.Bucket(stack, "B")
    number = Token.as_number(Aws.ACCOUNT_ID)
    text = Aws.REGION
    return [
        # tokens of every kind a construct sees
        text, Aws.ACCOUNT_ID, bucket.bucket_arn, bucket.bucket_name, Fn.select(0, Fn.split(",", "a,b")),
        f"arn:aws:s3:::{bucket.bucket_name}/*", f"prefix-{text}-suffix", number,
        Token.as_string(number), f"n={Token.as_string(number)}", Lazy.string(_Producer()),
        Lazy.number(_Producer()), Duration.seconds(number).to_seconds(),
        Token.as_number(Lazy.number(_Producer())), Fn.join("", ["a", text]),
        # look-alikes and plain values
        "Token[", "${Token[", "${Token[]}", "${Token[has space]}", "Token[TOKEN.1]", "#{Token[TOKEN.1]}",
        "-1.8881545897087626e+289", "${Token[TOKEN.12]}",  # these two: the encoding's own forms
        "", "plain", "arn:aws:s3:::bucket", 0, 1, -1, 3.5, 2**53, 2**60, -(2**63), 1e308, -1e308, 1.8881545897087626e+289,
        -1.8881545897087626e+289, float(-(2**1023)), 10**400, True, False, None, math.inf, -math.inf, math.nan,
    ]


def _reference(value):
    # NaN and infinities never reach jsii (they kill its node process); neither are tokens.
    if isinstance(value, float) and not math.isfinite(value):
        return False
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**1023:
        return False
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        return False
    return Token.is_unresolved(value)


def test_is_token_answers_as_aws_cdk_lib_does():
    values = _values()
    answers = [(value, is_token(value), _reference(value)) for value in values]
    assert [a for a in answers if a[1] != a[2]] == []
    # the list holds both kinds, so agreement is not vacuous
    assert sum(a[2] for a in answers) >= 14 and sum(not a[2] for a in answers) >= 20


@pytest.mark.parametrize("value", [{"a": 1}, ["${Token[TOKEN.1]}"], object(), b"${Token[TOKEN.1]}"])
def test_other_types_are_never_tokens(value):
    assert is_token(value) is False
