#!/usr/bin/env python3
"""t/demo/site.py: the demo's web site on 127.0.0.1, serving t/demo/site/.

Usage: site.py PORTFILE.  Listens on 127.0.0.1 at a free port and writes
the port to PORTFILE.  Besides the files it has the things a real site
has: /feed.xml (RSS, with this server's address filled in), /2019/<name>
answers 301 to /articles/<name>.html (an old URL that moved), and
/articles/broken.html answers 500 (a broken page).  Everything else is a
file under site/ or 404.
"""
import http.server
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "site")


class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=ROOT, **kwargs)

    def log_message(self, fmt, *args):
        pass

    def send_body(self, status, ctype, body):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?")[0]
        base = "http://127.0.0.1:%d" % self.server.server_address[1]
        if path == "/feed.xml":
            with open(os.path.join(ROOT, "feed.xml"), encoding="utf-8") as f:
                body = f.read().replace("SITE", base).encode()
            self.send_body(200, "application/rss+xml; charset=utf-8", body)
        elif path.startswith("/2019/"):
            self.send_response(301)
            self.send_header("Location", "/articles/%s.html" % path[len("/2019/"):])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/articles/broken.html":
            self.send_body(500, "text/html", b"<h1>Internal Server Error</h1>")
        else:
            super().do_GET()


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    server.serve_forever()


if __name__ == "__main__":
    main()
