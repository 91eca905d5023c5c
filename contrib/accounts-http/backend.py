#!/usr/bin/env python3
"""backend.py — a small sample back end for the account query's HTTP data source
(contrib/accounts-http/accounts_http.lua), for trying it and for the end-to-end test
tests/e2e/t25_accounts_http.sh.  Python 3 standard library only.

  backend.py [--listen 127.0.0.1:8099] [--accounts accounts.json] [--token TOKEN]
             [--log FILE]
  backend.py --hash-pin ID PIN     prints the pin_pbkdf2 value of a new record

API (JSON in, JSON out; POST, so that no ID or PIN is ever in a URL or an access log):
  POST /api/v1/accounts/lookup  {"id": "220102198503151237"}
       -> 200 {"found": true} | 200 {"found": false}
  POST /api/v1/accounts/verify  {"id": "...", "pin": "123456"}
       -> 200 {"ok": true, "balance_fen": 1234567, "paid_months": 96, "last_paid": "2026-10-15"}
        | 200 {"ok": false}
  GET  /api/v1/health -> 200 {"ok": true, "accounts": N}
  400 bad JSON or fields, 401 wrong or missing token (when --token is given), 404 other
  paths, 413 a body over 4 KiB.

The accounts file (default: accounts.json beside this script) maps ID numbers to records:
  {"220102198503151237": {"pin_pbkdf2": "pbkdf2_sha256$600000$<salt>$<hash>", "name": "张三",
                          "balance_fen": 1234567, "paid_months": 96, "last_paid": "2026-10-15"}}
No PIN is stored, only a salted, slow hash of "ID:PIN": PBKDF2-HMAC-SHA256 with a random
16-byte salt and 600,000 iterations (OWASP's Password Storage Cheat Sheet), salt and hash
in base64 (--hash-pin makes one).  A real back end would lock IDs itself too.  The file is
re-read when its modification time changes.

The log (stderr, or --log FILE) has one line per request: time, method, path, status and
the outcome (found / not found, ok / wrong PIN) — never an ID or a PIN.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 4096          # an ID and a PIN take ~50 bytes; anything bigger is not ours
API = "/api/v1"


class Accounts:
    """The accounts file, re-read when it changes."""

    def __init__(self, path):
        self.path = path
        self.mtime = None
        self.data = {}
        self.lock = threading.Lock()

    def get(self):
        with self.lock:
            try:
                m = os.stat(self.path).st_mtime
            except OSError:
                return self.data
            if m != self.mtime:
                with open(self.path, encoding="utf-8") as f:
                    data = json.load(f)
                if not isinstance(data, dict):
                    raise ValueError(f"{self.path}: must be an object of ID -> record")
                self.data, self.mtime = data, m
            return self.data


PBKDF2_ITERATIONS = 600000   # OWASP Password Storage Cheat Sheet, PBKDF2-HMAC-SHA256


def pin_hash(ident, pin, salt=None, iterations=PBKDF2_ITERATIONS):
    """The pin_pbkdf2 value of ID:PIN (a new random salt unless one is given)."""
    salt = os.urandom(16) if salt is None else salt
    dk = hashlib.pbkdf2_hmac("sha256", f"{ident}:{pin}".encode(), salt, iterations)
    return "pbkdf2_sha256$%d$%s$%s" % (iterations, base64.b64encode(salt).decode(),
                                       base64.b64encode(dk).decode())


def pin_ok(ident, pin, stored):
    """Does PIN match the stored pin_pbkdf2 of ID?  (False for anything malformed.)"""
    try:
        scheme, iterations, salt, _ = str(stored).split("$")
        if scheme != "pbkdf2_sha256":
            return False
        want = pin_hash(ident, pin, base64.b64decode(salt), int(iterations))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(want, str(stored))


class Handler(BaseHTTPRequestHandler):
    server_version = "hotline-accounts-backend/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # the default logs the request line; ours is below
        pass

    def note(self, status, outcome):
        line = "%s %s %s %d %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"), self.command,
                                     self.path.split("?")[0], status, outcome)
        self.server.log.write(line)
        self.server.log.flush()

    def answer(self, status, obj, outcome):
        body = json.dumps(obj, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.note(status, outcome)

    def authorised(self):
        token = self.server.token
        if not token:
            return True
        got = self.headers.get("Authorization", "")
        return hmac.compare_digest(got.encode(), f"Bearer {token}".encode())

    def do_GET(self):
        if not self.authorised():
            return self.answer(401, {"error": "token"}, "unauthorised")
        if self.path == API + "/health":
            return self.answer(200, {"ok": True, "accounts": len(self.server.accounts.get())}, "health")
        return self.answer(404, {"error": "no such path"}, "not found")

    def read_json(self):
        try:
            n = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            n = -1
        if n < 0 or n > MAX_BODY:
            self.answer(413, {"error": f"body over {MAX_BODY} bytes"}, "too large")
            self.close_connection = True
            return None
        try:
            obj = json.loads(self.rfile.read(n).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            self.answer(400, {"error": "not JSON"}, "bad JSON")
            return None
        if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
            self.answer(400, {"error": "an object with id is needed"}, "bad fields")
            return None
        return obj

    def do_POST(self):
        if not self.authorised():
            return self.answer(401, {"error": "token"}, "unauthorised")
        if self.path not in (API + "/accounts/lookup", API + "/accounts/verify"):
            return self.answer(404, {"error": "no such path"}, "not found")
        req = self.read_json()
        if req is None:
            return None
        accounts = self.server.accounts.get()
        rec = accounts.get(req["id"])
        if self.path.endswith("/lookup"):
            return self.answer(200, {"found": rec is not None}, "found" if rec else "not-found")
        pin = req.get("pin")
        if not isinstance(pin, str):
            return self.answer(400, {"error": "pin is needed"}, "bad fields")
        if rec is None or not pin_ok(req["id"], pin, rec.get("pin_pbkdf2", "")):
            return self.answer(200, {"ok": False}, "wrong-pin" if rec else "not-found")
        return self.answer(200, {"ok": True, "balance_fen": int(rec.get("balance_fen", 0)),
                                 "paid_months": int(rec.get("paid_months", 0)),
                                 "last_paid": str(rec.get("last_paid", ""))}, "ok")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description="sample account back end for hotline's HTTP data source")
    ap.add_argument("--listen", default="127.0.0.1:8099", help="address:port (default 127.0.0.1:8099)")
    ap.add_argument("--accounts", default=os.path.join(here, "accounts.json"), help="the accounts file")
    ap.add_argument("--token", default=os.environ.get("ACCOUNTS_TOKEN"),
                    help="require 'Authorization: Bearer TOKEN' (default: $ACCOUNTS_TOKEN, else none)")
    ap.add_argument("--log", help="request log file (default stderr)")
    ap.add_argument("--hash-pin", nargs=2, metavar=("ID", "PIN"),
                    help="print the pin_pbkdf2 value of a new record, and exit")
    a = ap.parse_args()
    if a.hash_pin:
        print(pin_hash(*a.hash_pin))
        return
    host, _, port = a.listen.rpartition(":")
    if not host or not port.isdigit():
        ap.error("--listen must be address:port")
    accounts = Accounts(a.accounts)
    try:
        accounts.get()
    except (OSError, ValueError) as e:
        sys.exit(f"backend.py: {e}")
    srv = ThreadingHTTPServer((host, int(port)), Handler)
    srv.accounts = accounts
    srv.token = a.token
    srv.log = open(a.log, "a", encoding="utf-8") if a.log else sys.stderr
    srv.log.write(f"backend.py: serving {len(accounts.get())} accounts on http://{host}:{port}{API}\n")
    srv.log.flush()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
