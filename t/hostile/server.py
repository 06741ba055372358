#!/usr/bin/env python3
"""Hostile HTTP server for t/hostile/run.sh (standard library only).

Listens on 127.0.0.1 on a free port and writes the port to argv[1].  Every
route is a page or feed built to hurt a crawler: NUL bytes, a bogus charset,
a gzip bomb, a 50 MB line, 100k nested elements, 100k links, empty and
non-XML feeds, a 10 MB robots.txt, a body that never ends, one that trickles.
Big bodies are built once, on first use, so the server starts instantly.
"""
import functools
import os
import gzip
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MB = 1024 * 1024


def html(title, body):
    return ("<!DOCTYPE html><html><head><title>%s</title></head><body>%s</body></html>"
            % (title, body)).encode()


@functools.lru_cache(maxsize=None)
def big(name):
    if name == "bomb":
        # 20 MB of zeros compress to about 20 KB
        return gzip.compress(b"\0" * (20 * MB), compresslevel=9)
    if name == "oneline":
        words = b"hostile line words " * (50 * MB // 19)
        return b"<html><head><title>One line</title></head><body><p>" + words + b"</p></body></html>"
    if name == "nested":
        return (b"<html><head><title>Nested</title></head><body>" + b"<div>" * 100000 +
                b"deepest words" + b"</div>" * 100000 + b"</body></html>")
    if name == "links":
        links = "".join('<a href="/l/%d">link %d</a>\n' % (i, i) for i in range(100000))
        return html("Links", links)
    if name == "robots":
        # a rule at the top, 10 MB of comments, a rule no crawler should reach
        return (b"User-agent: *\nDisallow: /secret\n" + b"# padding padding padding padding\n" * (10 * MB // 35) +
                b"Disallow: /ok-late\n")
    raise KeyError(name)


FEEDS = {
    "/empty.rss": b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>',
    "/empty.atom": b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title></feed>',
    "/zero.rss": b"",
    "/notxml.rss": b"this is { not <xml at all &&& \xff\xfe",
    "/billion.rss": (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
                     b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
                     b'<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">'
                     b'<!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;"><!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">]>'
                     b'<rss version="2.0"><channel><title>&g;</title></channel></rss>'),
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send(self, status, body, ctype="text/html; charset=utf-8", extra=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):
        p = self.path.split("?")[0]
        if p == "/robots.txt":
            return self.send(200, big("robots"), "text/plain")
        if p == "/nul.html":
            return self.send(200, b"<html><head><title>NUL\0title</title></head><body><p>before\0\0after"
                             b" nul\0words</p></body></html>")
        if p == "/bogus-charset.html":
            return self.send(200, b"<html><head><title>Bogus caf\xe9 charset</title></head>"
                             b"<body><p>na\xefve \xff\xfe\x80 bytes</p></body></html>",
                             "text/html; charset=x-no-such-charset-42")
        if p == "/bad-utf8.html":
            return self.send(200, b"<html><head><title>bad \xc3\x28 utf8 \xed\xa0\x80 \xf8\x88\x80\x80\x80</title>"
                             b"</head><body><p>over\xc0\xaflong \xe2\x82 truncated</p></body></html>")
        if p == "/controls.html":
            return self.send(200, b"<html><head><title>esc \x1b[31mred\x1b[0m \x07bell \x08</title></head>"
                             b"<body><p>ctrl \x01\x02\x03\x7f words</p></body></html>")
        if p == "/bomb.html":
            return self.send(200, big("bomb"), extra={"Content-Encoding": "gzip"})
        if p in ("/oneline.html", "/nested.html", "/links.html"):
            return self.send(200, big(p[1:-5]))
        if p in FEEDS:
            return self.send(200, FEEDS[p], "application/rss+xml")
        if p == "/endless":
            # chunked, never ends: the crawler must stop at --max-body
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"<p>" + b"endless " * 8000 + b"</p>"
            try:
                while True:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except (BrokenPipeError, ConnectionResetError):
                return
        if p == "/trickle":
            # one byte every half second: --timeout must end it
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            try:
                for _ in range(600):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.5)
            except (BrokenPipeError, ConnectionResetError):
                return
            return
        if p == "/ja.html":
            # text a LATIN1 database cannot hold
            return self.send(200, html("日本語のタイトル", "<p>本文 café</p>"))
        if p == "/to-metadata":
            # a redirect to another loopback address (127.0.0.2 stands for a
            # cloud metadata service): the crawler must not follow it
            port = self.server.server_address[1]
            return self.send(302, b"", extra={"Location": "http://127.0.0.2:%d/ok-secret" % port})
        if p == "/huge-title.html":
            return self.send(200, html("T" * 2000000, "<p>short body</p>"))
        if p == "/big-feed.xml":
            items = "".join("<item><link>http://127.0.0.1:%d/ok-feed-%d</link></item>"
                            % (self.server.server_address[1], i) for i in range(5000))
            return self.send(200, ("<rss><channel>%s</channel></rss>" % items).encode(),
                             "application/rss+xml")
        if p.startswith("/ok"):
            return self.send(200, html("Fine page", "<p>ordinary words here</p>"))
        return self.send(404, html("Not found", "no route"))


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass                    # the crawler hangs up on bombs on purpose


def main():
    server = Server(("127.0.0.1", 0), Handler)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    server.serve_forever()


if __name__ == "__main__":
    main()
