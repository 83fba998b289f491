#!/usr/bin/env python3
"""A local webhook receiver for `crm deliver` (docs/deliver.md): takes the JSON array of rows a
POST carries, drops repeats by idem_key, and records what it received. It can fail on purpose
(500s, slow answers past the client's timeout, dropped connections, 429 with Retry-After, 400s),
which is how tests/scripts/deliver_*.sh check retries, dedupe and at-least-once delivery.

  python3 webhook_receiver.py --port 0 --port-file port.txt --processed keys.txt [--log rows.jsonl]
      [--fail-rate 0.3 --fail-kinds 500,slow,drop,429] [--fail-first N] [--reject KEY_SUBSTRING]
      [--token TOKEN] [--delay S] [--print] [--lifetime S]

Files (appended, flushed after each request):
  --processed  each idem_key the first time it is processed (the dedupe set, one per line)
  --log        one JSON object per received row: time, idem_key, the Idempotency-Key header,
               batch size and what was done with it (processed, duplicate, 500, slow, drop, 429, 400)
Only for 127.0.0.1: it binds there and nowhere else.
"""
import argparse
import json
import os
import random
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    p.add_argument("--port-file", help="write the port here once listening")
    p.add_argument("--processed", help="append each newly processed idem_key here")
    p.add_argument("--log", help="append one JSON line per received row here")
    p.add_argument("--fail-rate", type=float, default=0.0, help="share of requests that fail on purpose")
    p.add_argument("--fail-kinds", default="500,slow,drop,429", help="failures to pick from")
    p.add_argument("--fail-first", type=int, default=0, help="the first N requests fail (first kind of --fail-kinds)")
    p.add_argument("--slow", type=float, default=1.0, help="seconds a 'slow' answer takes (after processing)")
    p.add_argument("--retry-after", type=int, default=1, help="Retry-After seconds of a 429")
    p.add_argument("--reject", action="append", default=[], help="400 for a batch holding an idem_key with this substring")
    p.add_argument("--token", help="require 'Authorization: Bearer TOKEN' (else 401)")
    p.add_argument("--delay", type=float, default=0.0, help="seconds every answer takes")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--print", action="store_true", help="print each processed row on stdout")
    p.add_argument("--lifetime", type=float, default=0, help="stop by itself after this many seconds (0: never)")
    a = p.parse_args()

    rng = random.Random(a.seed)
    kinds = [k for k in a.fail_kinds.split(",") if k]
    seen = set()
    state = {"requests": 0}
    processed_f = open(a.processed, "a", encoding="utf-8") if a.processed else None
    log_f = open(a.log, "a", encoding="utf-8") if a.log else None

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            super().setup()
            # Headers and body go out in two writes: without this, Nagle's algorithm and the
            # client's delayed ACK add 40 ms to every answer.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, fmt, *args):  # quiet: the files are the record
            pass

        def answer(self, code, body, headers=()):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def record(self, rows, outcome, header_key):
            if not log_f:
                return
            now = time.time()
            for r in rows:
                key = r.get("idem_key") if isinstance(r, dict) else None
                log_f.write(json.dumps({"t": now, "idem_key": key, "header_key": header_key,
                                        "batch": len(rows), "outcome": outcome}) + "\n")
            log_f.flush()

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            header_key = self.headers.get("Idempotency-Key")
            try:
                rows = json.loads(raw)
                assert isinstance(rows, list)
            except Exception:
                self.answer(400, {"error": "the body is not a JSON array"})
                return
            if a.token is not None and self.headers.get("Authorization") != "Bearer " + a.token:
                with LOCK:
                    self.record(rows, "401", header_key)
                self.answer(401, {"error": "bad or missing bearer token"})
                return
            with LOCK:
                state["requests"] += 1
                n = state["requests"]
                kind = None
                if n <= a.fail_first and kinds:
                    kind = kinds[0]
                elif a.fail_rate > 0 and kinds and rng.random() < a.fail_rate:
                    kind = rng.choice(kinds)
                if kind is None and any(s in (r.get("idem_key") or "") for r in rows for s in a.reject):
                    kind = "400"
                if kind in ("500", "drop", "429", "400"):
                    self.record(rows, kind, header_key)
                else:  # processed now, answered now or (slow) too late
                    fresh = dups = 0
                    for r in rows:
                        key = r.get("idem_key")
                        if key in seen:
                            dups += 1
                            continue
                        seen.add(key)
                        fresh += 1
                        if processed_f:
                            processed_f.write(key + "\n")
                        if a.print:
                            print(json.dumps(r, ensure_ascii=False), flush=True)
                    if processed_f:
                        processed_f.flush()
                    self.record(rows, "slow" if kind == "slow" else "processed", header_key)
            if a.delay:
                time.sleep(a.delay)
            if kind == "500":
                self.answer(500, {"error": "failing on purpose"})
            elif kind == "429":
                self.answer(429, {"error": "slow down"}, [("Retry-After", str(a.retry_after))])
            elif kind == "400":
                self.answer(400, {"error": "rejected on purpose"})
            elif kind == "drop":
                self.close_connection = True  # no answer at all: the client sees an empty reply
            elif kind == "slow":
                time.sleep(a.slow)
                try:
                    self.answer(200, {"accepted": fresh, "duplicates": dups})
                except OSError:
                    pass
            else:
                self.answer(200, {"accepted": fresh, "duplicates": dups})

    class Server(ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
                super().handle_error(request, client_address)  # a client that went away is no error

    server = Server(("127.0.0.1", a.port), Handler)
    server.daemon_threads = True
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write(str(server.server_address[1]))
        os.replace(a.port_file + ".tmp", a.port_file)
    if a.lifetime > 0:  # a receiver left behind by a failed script still goes away
        threading.Timer(a.lifetime, server.shutdown).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
