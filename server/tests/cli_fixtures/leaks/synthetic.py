"""Synthetic keys wherever a key can hide (issue #13): no output of keylint may carry one.

Every key here is listed in keys.txt; none is real.
"""
import logging
import os

import requests
from flask import Flask, jsonify, request

app = Flask(__name__)
app.config["DEBUG"] = True
logger = logging.getLogger(__name__)

tokens = {}
tokens["ghp_R7q2Lx9VmK4tZp8WnB3sYc6Hd1Fg5Je0Ua2T"] = "ghp_R7q2Lx9VmK4tZp8WnB3sYc6Hd1Fg5Je0Ua2T"
API_KEY = "sk_live_9Xq2Lm4Rt7Vb1Nc8Zw3Ks6Pd"; BACKUP_KEY = "sk_live_Hq4Wm9Zx2Lp7Rt5Vc8Nb3Kd"
AWS_ACCESS_KEY_ID = "AKIAZ3MQ7X2P9L4K8HJD"  # the old one: AKIAQ7R2M9X4L8K3P5ZT
SLACK = {"xoxb-2918437562-8372619283-Qm7Lz4Xr9Tv2Wn5Ks8Pd3Bf": "bot"}
DATABASE_URL = "postgresql://app:Vx7Lq2Zm9Kp4Rt8W@db.internal.acme.io/app"
PASSWORD = "hunter2-Zebra-Falcon"
client_secret = "Q2xpZW50U2VjcmV0MTIzNDU2Nzg5MGFiY2RlZg"
headers = {"Authorization": f"token ghp_Zk3Wq8Lm2Xr7Tv4Nb9Ps6Hd1Fg5Je0Ua2Qc"}
STRIPE_SECRET = os.environ.get("STRIPE_SECRET", "sk_live_Wq7Zm2Lx9Rt4Vb8Nc3Ks5Pd")


class Settings:
    ghp_Pz4Xm8Lq2Wr7Tv3Nb9Ks6Hd1Fg5Je0Ua2Qm = "sk_live_Tz8Qm3Lx7Wr2Vb9Nc4Ks6Pd"
    SECRET_KEY = "ghp_Nq5Lx8Zm2Wr7Tv3Pb9Ks6Hd1Fg4Je0Ua2Rc"


@app.route("/login", methods=["POST"])
def login():
    key = request.headers.get("X-API-Key")
    logger.info("key %s, fallback AIzaSyD4Xq7Lm2Rt9Vb3Nc8Zw5Ks1Pd6Hf0Jg2Qe", key)
    if key == "sk_live_Lm5Xq8Rt2Vb7Nc3Zw9Ks4Pd1":
        return jsonify(ok=True)
    try:
        requests.get("https://api.acme.io", headers={"X-Key": key})
    except Exception as e:
        return {"error": str(e), "hint": "xoxb-5518437562-1372619283-Zt4Lq7Xm2Wr9Vn3Kb8Ps5Hd"}, 500
    return jsonify(key=key)


if __name__ == "__main__":
    app.run(debug=True)
