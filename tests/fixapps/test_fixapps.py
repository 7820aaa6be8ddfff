"""The fixture apps answer the same before and after keylint's fixes, on every path that does not
leak a key: register, authenticate, reject a wrong or unknown key, rotate."""
from conftest import assert_no_raw_key, load


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
