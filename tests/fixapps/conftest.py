"""The fixture apps of `fixtures/fixapps/`, loaded from FIXAPPS_DIR (the originals, or a copy that
`keylint check --fix --unsafe-fixes` rewrote), against a DynamoDB stub (moto)."""
import importlib.util
import os
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

HERE = Path(__file__).resolve().parent
APPS = Path(os.environ.get("FIXAPPS_DIR", HERE.parent.parent / "fixtures" / "fixapps"))
# Set by run.sh for the fixed copy: the table must then hold no raw key.
EXPECT_HASHED = os.environ.get("FIXAPPS_EXPECT_HASHED") == "1"


@pytest.fixture()
def table(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("KEYS_TABLE", "keys")
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name="us-east-1")
        t = dynamodb.create_table(
            TableName="keys",
            KeySchema=[{"AttributeName": "owner", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "owner", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield t


def load(name):
    """Imports `APPS/name.py` afresh (inside the moto mock, so its table is the stub's)."""
    path = APPS / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"fixapp_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.pop(spec.name, None)
    spec.loader.exec_module(module)
    return module


def assert_no_raw_key(table, owner, raw):
    item = table.get_item(Key={"owner": owner})["Item"]
    if EXPECT_HASHED:
        assert raw not in item.values(), item
    return item
