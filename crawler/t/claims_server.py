#!/usr/bin/env python3
"""HTTP server for crawler/t/claims.sh: many small pages, some slow, with an
access log of its own (standard library only).

Usage: claims_server.py PORTFILE ACCESSLOG

Listens on 127.0.0.1 on a free port and writes it to PORTFILE.  Every
request is appended to ACCESSLOG as "EPOCH_SECONDS PATH" (one line, written
and flushed before the answer is sent, so a crawler killed while it waits
has been counted), which is what the suite counts fetches by.

  /c/N, /k/N      a small article page
  /fail/N         503, every time
  /slow/N?s=S     the first request waits S seconds before answering, the
                  later ones answer at once (a crawler killed while waiting
                  leaves the URL to another one, which need not wait again)
  /robots.txt     404: everything allowed

Every page waits ?d=SECONDS (default 0) first, so a crawl takes long enough
for several crawlers to share it.
"""
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

LOG_LOCK = threading.Lock()
SLOW_SEEN = set()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        path = parts.path
        with LOG_LOCK:
            self.server.log.write("%.6f %s\n" % (time.time(), path))
            self.server.log.flush()
            first = path not in SLOW_SEEN
            SLOW_SEEN.add(path)
        delay = float(query.get("d", ["0"])[0])
        if path.startswith("/slow/") and first:
            delay += float(query.get("s", ["30"])[0])
        if delay > 0:
            time.sleep(delay)
        status = 200
        if path == "/robots.txt":
            status, body = 404, b"no robots.txt"
        elif path.startswith("/fail/"):
            status, body = 503, b"<html><body>unavailable</body></html>"
        else:
            name = path.strip("/").replace("/", " ")
            body = ("<!DOCTYPE html><html><head><title>Page %s</title></head>"
                    "<body><article><p>The text of page %s.</p></article></body></html>"
                    % (name, name)).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def handle_error(self, request, client_address):
        # a crawler killed mid-request hangs up: not news
        pass


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    srv.log = open(sys.argv[2], "a")
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    import os
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
