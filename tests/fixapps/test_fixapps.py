"""The fixture apps answer the same before and after keylint's fixes, on every path that does not
leak a key: register, authenticate, reject a wrong or unknown key, rotate (boto3 and PynamoDB)."""
from conftest import EXPECT_HASHED, assert_no_raw_key, load


def test_fastapi_keys(table):
    from fastapi.testclient import TestClient

    client = TestClient(load("fastapi_keys").app)
    r = client.post("/register/alice", headers={"X-API-Key": "k-alice-1"})
    assert r.status_code == 200, r.text
    assert r.json() == {"owner": "alice"}
    assert_no_raw_key(table, "alice", "k-alice-1")

    r = client.get("/me/alice", headers={"X-API-Key": "k-alice-1"})
    assert r.status_code == 200, r.text
    assert r.json() == {"owner": "alice", "plan": "free"}
    assert client.get("/me/alice", headers={"X-API-Key": "wrong"}).status_code == 401
    assert client.get("/me/bob", headers={"X-API-Key": "k-alice-1"}).status_code == 401
    assert client.get("/me/alice").status_code == 422

    r = client.post("/rotate/alice", headers={"X-API-Key": "wrong", "X-New-Key": "k2"})
    assert r.status_code == 401, r.text
    r = client.post("/rotate/alice", headers={"X-API-Key": "k-alice-1", "X-New-Key": "k-alice-2"})
    assert r.status_code == 200, r.text
    assert r.json() == {"owner": "alice", "rotated": True}
    assert_no_raw_key(table, "alice", "k-alice-2")
    assert client.get("/me/alice", headers={"X-API-Key": "k-alice-2"}).status_code == 200
    assert client.get("/me/alice", headers={"X-API-Key": "k-alice-1"}).status_code == 401


def test_flask_keys(table):
    client = load("flask_keys").app.test_client()
    r = client.post("/register/carol", headers={"X-API-Key": "k-carol"})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json() == {"owner": "carol"}
    assert_no_raw_key(table, "carol", "k-carol")

    r = client.get("/me/carol", headers={"X-API-Key": "k-carol"})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json() == {"owner": "carol", "plan": "pro"}
    assert client.get("/me/carol", headers={"X-API-Key": "wrong"}).status_code == 401
    assert client.get("/me/carol").status_code == 401
    assert client.get("/me/dave", headers={"X-API-Key": "k-carol"}).status_code == 401


def test_pynamodb_keys(table):
    from fastapi.testclient import TestClient

    app = load("pynamodb_keys")
    for model in (app.ApiKey, app.Account):
        model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    client = TestClient(app.app)

    # The API key is the hash key: written, then looked up by `ApiKey.get`.
    r = client.post("/keys/erin", headers={"X-API-Key": "k-erin-0001"})
    assert r.status_code == 200, r.text
    stored = [k.api_key for k in app.ApiKey.scan()]
    assert len(stored) == 1
    if EXPECT_HASHED:
        assert "k-erin-0001" not in stored, stored
    r = client.get("/whoami", headers={"X-API-Key": "k-erin-0001"})
    assert r.status_code == 200, r.text
    assert r.json() == {"owner": "erin"}
    assert client.get("/whoami", headers={"X-API-Key": "k-wrong-0001"}).status_code == 401

    # The refresh token: assigned and saved, compared, rotated by an update action, scanned for.
    r = client.post("/accounts/erin", headers={"X-Refresh-Token": "rt-erin-0001"})
    assert r.status_code == 200, r.text
    if EXPECT_HASHED:
        assert app.Account.get("erin").refresh_token != "rt-erin-0001"
    headers = {"X-Refresh-Token": "rt-wrong-001", "X-New-Token": "rt-erin-0002"}
    assert client.post("/accounts/erin/rotate", headers=headers).status_code == 401
    headers = {"X-Refresh-Token": "rt-erin-0001", "X-New-Token": "rt-erin-0002"}
    r = client.post("/accounts/erin/rotate", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"owner": "erin", "rotated": True}
    if EXPECT_HASHED:
        assert app.Account.get("erin").refresh_token != "rt-erin-0002"
    r = client.get("/accounts/by-token", headers={"X-Refresh-Token": "rt-erin-0002"})
    assert r.status_code == 200, r.text
    assert r.json() == {"owner": "erin"}
    assert client.get("/accounts/by-token", headers={"X-Refresh-Token": "rt-erin-0001"}).status_code == 401


def test_two_keys(table):
    from fastapi.testclient import TestClient

    client = TestClient(load("two_keys").app)
    headers = {"X-API-Key": "k-frank-0001", "X-Admin-Key": "a-frank-0001"}
    r = client.post("/register/frank", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"owner": "frank"}
    # Both keys of the one write are hashed after the fix (one finding, one fix each).
    assert_no_raw_key(table, "frank", "k-frank-0001")
    assert_no_raw_key(table, "frank", "a-frank-0001")

    r = client.get("/me/frank", headers={"X-API-Key": "k-frank-0001"})
    assert r.status_code == 200, r.text
    assert r.json() == {"owner": "frank", "plan": "free"}
    assert client.get("/me/frank", headers={"X-API-Key": "a-frank-0001"}).status_code == 401
    assert client.get("/me/frank", headers={"X-API-Key": "wrong-0001"}).status_code == 401
