"""A Flask app with secrets (fixture of the CLI golden tests)."""
from flask import Flask

app = Flask(__name__)
API_KEY = "sk-test-4f9c2b7e8d1a6f3c9a0b"
DB_PASSWORD = "hunter2-but-longer"  # keylint: ignore[KL101]
TIMEOUT = 30  # keylint: ignore
GREETING = "héllo"; AUTH_TOKEN = "tok-9a8b7c6d5e4f"
