#!/usr/bin/env python3
"""Fixture HTTP server for the pglearn crawler tests (standard library only).

Listens on 127.0.0.1 on free ports and writes "HTTP_PORT REDIS_PORT
HTTP2_PORT HTTP6_PORT" to the file given as argv[1]; the second HTTP port
differs only in its robots.txt (GET /_robots2/{group,503,404} on either port
picks it); the third listens on [::1] (0 if this machine has no IPv6
loopback), a redirect target on another loopback address for the address
check's tests.  Serves pages in several charsets, compressed bodies,
redirects, errors, slow and oversized bodies, feeds and a robots.txt, and
counts hits per path (GET /_hits?path=/x).  A second socket speaks just
enough RESP to answer PING for `pglearn check`.
"""
import functools
import gzip
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs

HITS = {}
HITS_LOCK = threading.Lock()
SECOND_PORT = [0]
STATE = {"flaky": "ok", "robots2": "group", "last_ua": "", "last_ae": ""}


def html(title, body, head=""):
    return ("<!DOCTYPE html><html><head><title>%s</title>%s</head>"
            "<body>%s</body></html>" % (title, head, body))


UTF8_PAGE = """<!DOCTYPE html>
<html><head>
<meta charset="utf-8">
<title>  日本語の
  タイトル </title>
<meta name="description" content="説明文です">
<meta property="og:description" content="OG description &amp; more">
<meta property="og:type" content="article">
<meta property="og:image" content="/img/og.png">
<link rel="shortcut icon" href="favicon.ico">
<link rel="canonical" href="/canonical/utf8?id=7&amp;utm_source=feed&amp;utm_medium=rss#frag">
<style>.x { color: red } SECRET_STYLE</style>
<script>var s = "SECRET_SCRIPT";</script>
</head>
<body>
<h1>Heading</h1><p>visible    text
 here</p><div>second<b>bold</b> block</div>
<template>SECRET_TEMPLATE</template>
<noscript>SECRET_NOSCRIPT</noscript>
<script type="text/javascript">document.write("SECRET_SCRIPT2")</script>
<p>日本語の本文です。</p>
</body></html>"""


BENCH_WORDS = ("database learning crawler page article 記事 学習 データベース "
               "postgres label score feature vector model").split()


@functools.lru_cache(maxsize=None)
def bench_page(name):
    """A deterministic ~12 KB article-like page for bench/crawl.sh."""
    seed = sum(name.encode())
    paras = []
    for i in range(40):
        words = [BENCH_WORDS[(seed + i * 7 + j * 3) % len(BENCH_WORDS)] for j in range(40)]
        paras.append("<p>" + " ".join(words) + "</p>")
    head = ('<meta name="description" content="bench page %s">'
            '<meta property="og:type" content="article">'
            '<link rel="canonical" href="/bench/%s?utm_source=bench">'
            '<script>var x = %d;</script><style>p { margin: 0 }</style>' % (name, name, seed))
    return html("Bench page " + name, "<article>%s</article>" % "".join(paras), head).encode()


def route(path, query, second=False, accept_encoding=""):
    """Return (status, headers, body bytes, options) for a GET path."""
    h = {"Content-Type": "text/html; charset=utf-8"}
    if path == "/robots.txt" and second:
        # the second port: a group naming us, which must win over "*"
        mode = STATE["robots2"]
        if mode == "503":
            return 503, {"Content-Type": "text/plain"}, b"busy", {}
        if mode == "404":
            return 404, {"Content-Type": "text/plain"}, b"none", {}
        body = ("User-agent: *\nDisallow: /\n\n"
                "User-agent: googlebot\nUser-agent: PGLEARN-CRAWLER\n"
                "Crawl-delay: 1\nDisallow: /private/ # comment\n")
        return 200, {"Content-Type": "text/plain"}, body.encode(), {}
    if path == "/robots.txt":
        body = ("# test robots\nUser-agent: other-bot\nDisallow: /\n\n"
                "User-agent: *\nDisallow: /private/\nAllow: /private/open.html\n"
                "Disallow: /*.pdf$\nDisallow: /search*q=\n")
        return 200, {"Content-Type": "text/plain"}, body.encode(), {}
    if path.startswith("/_robots2/"):
        STATE["robots2"] = path.split("/")[2]
        return 200, {"Content-Type": "text/plain"}, b"ok", {}
    if path == "/utf8.html":
        return 200, h, UTF8_PAGE.encode("utf-8"), {}
    if path == "/sjis.html":
        page = html("シフトJISのページ ①", "<p>こんにちは世界</p>")
        return 200, {"Content-Type": "text/html; charset=Shift_JIS"}, page.encode("cp932"), {}
    if path == "/eucjp.html":
        page = html("EUC-JPのページ", "<p>日本語の本文</p>",
                    '<meta http-equiv="Content-Type" content="text/html; charset=EUC-JP">')
        return 200, {"Content-Type": "text/html"}, page.encode("euc_jp"), {}
    if path == "/iso2022jp.html":
        page = html("ISO-2022-JPのページ", "<p>かな漢字</p>")
        return 200, {"Content-Type": "text/html; charset=ISO-2022-JP"}, page.encode("iso2022_jp"), {}
    if path == "/cp1252.html":
        page = html("Café – “quoted”", "<p>naïve</p>")
        return 200, {"Content-Type": "text/html; charset=iso-8859-1"}, page.encode("cp1252"), {}
    if path == "/bom.html":
        page = html("BOM page ✓", "<p>bom body</p>", '<meta charset="shift_jis">')
        return 200, {"Content-Type": "text/html"}, b"\xef\xbb\xbf" + page.encode("utf-8"), {}
    if path == "/gzip.html":
        if "gzip" not in accept_encoding:
            return 200, h, html("Sent uncompressed", "<p>no Accept-Encoding</p>").encode(), {}
        page = html("Gzipped page", "<p>compressed body</p>")
        h2 = dict(h)
        h2["Content-Encoding"] = "gzip"
        return 200, h2, gzip.compress(page.encode()), {}
    if path == "/utf16.html":
        page = html("UTF-16 ページ", "<p>sixteen</p>")
        return 200, {"Content-Type": "text/html"}, b"\xff\xfe" + page.encode("utf-16-le"), {}
    if path == "/base/page.html":
        page = html("Base", "<p>b</p>", '<base href="/sub/"><meta property="og:image" content="img.png">'
                    '<link rel="icon" href="//127.0.0.1:9/fav.ico"><link rel="canonical" href="c.html?utm_term=x">')
        return 200, h, page.encode(), {}
    if path == "/_last":
        return 200, {"Content-Type": "text/plain"}, (STATE["last_ua"] + "|" + STATE["last_ae"]).encode(), {}
    if path == "/ogtitle.html":
        page = ('<html><head><meta property="og:title" content="OG only title"></head>'
                '<body><p>no title element</p></body></html>')
        return 200, h, page.encode(), {}
    if path == "/malformed.html":
        body = (b"<html><head><title>Broken <b>page</title><body><p>unclosed <div>"
                b"<table><tr><td>cell</p></span> nul\x00byte bad\xff\xfebytes "
                b"<<<>>> &bogus; &#0; &#xD800; <div <p>end")
        return 200, h, body, {}
    if path == "/plain.txt":
        return 200, {"Content-Type": "text/plain; charset=utf-8"}, "plain text file".encode(), {}
    if path == "/image.png":
        return 200, {"Content-Type": "image/png"}, b"\x89PNG\r\n\x1a\n" + b"\0" * 100, {}
    if path == "/goto":
        return 302, {"Location": query.get("to", ["/"])[0]}, b"", {}
    if path == "/redirect/1":
        return 302, {"Location": "/redirect/2"}, b"", {}
    if path == "/redirect/2":
        return 301, {"Location": "/redirect/3"}, b"", {}
    if path == "/redirect/3":
        return 302, {"Location": "/redirect-target.html?utm_campaign=x&keep=1&UTM_Source=y&FBCLID=z"}, b"", {}
    if path == "/redirect-target.html":
        return 200, h, html("Redirect target", "<p>arrived</p>").encode(), {}
    if path == "/loop/a":
        return 302, {"Location": "/loop/b"}, b"", {}
    if path == "/loop/b":
        return 302, {"Location": "/loop/a"}, b"", {}
    if path == "/tofile":
        return 302, {"Location": "file:///etc/passwd"}, b"", {}
    if path == "/toftp":
        return 302, {"Location": "ftp://127.0.0.1/x"}, b"", {}
    if path == "/404":
        return 404, h, html("Not found", "<p>nope</p>").encode(), {}
    if path == "/500":
        return 500, h, html("Server error", "<p>boom</p>").encode(), {}
    if path == "/slow":
        secs = float(query.get("s", ["3"])[0])
        return 200, h, html("Slow page", "<p>finally</p>").encode(), {"sleep": secs}
    if path == "/big":
        return 200, h, html("Big", "<p>" + "x" * 200000 + "</p>").encode(), {}
    if path == "/big-chunked":
        return 200, h, html("Big chunked", "<p>" + "y" * 200000 + "</p>").encode(), {"chunked": True}
    if path == "/bomb":
        # 4 MiB of text compressed to a few KiB: the cap must count decoded bytes
        page = html("Bomb", "<p>" + "z" * (4 * 1024 * 1024) + "</p>").encode()
        h2 = dict(h)
        h2["Content-Encoding"] = "gzip"
        return 200, h2, gzip.compress(page), {"chunked": True}
    if path == "/flaky":
        if STATE["flaky"] == "ok":
            return 200, h, html("Flaky good", "<p>good content</p>").encode(), {}
        return 503, h, html("Unavailable", "<p>try later</p>").encode(), {}
    if path.startswith("/_flaky/"):
        STATE["flaky"] = path.split("/")[2]
        return 200, {"Content-Type": "text/plain"}, b"ok", {}
    if path == "/_hits":
        p = query.get("path", [""])[0]
        with HITS_LOCK:
            n = HITS.get(p, 0)
        return 200, {"Content-Type": "text/plain"}, str(n).encode(), {}
    if path.startswith("/private/") or path.startswith("/page/") or path.startswith("/feed-item/"):
        name = path.rsplit("/", 1)[1]
        return 200, h, html("Page " + name, "<p>body of %s</p>" % name).encode(), {}
    if path == "/feed.rss":
        port = query.get("port", [""])[0]
        body = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Test feed</title><link>http://127.0.0.1:%s/</link>
<item><title>One</title><link>http://127.0.0.1:%s/feed-item/1</link></item>
<item><title>Two</title><link>
  http://127.0.0.1:%s/feed-item/2?utm_source=rss
</link></item>
<item><title>No link</title><guid isPermaLink="false">abc</guid></item>
</channel></rss>""" % (port, port, port)
        return 200, {"Content-Type": "application/rss+xml"}, body.encode(), {}
    if path == "/feed.atom":
        body = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom</title>
<link rel="self" href="/feed.atom"/>
<entry><title>Three</title><link rel="alternate" href="/feed-item/3"/><id>x</id></entry>
<entry><title>Four</title><link href="feed-item/4"/><link rel="enclosure" href="/big"/></entry>
</feed>"""
        return 200, {"Content-Type": "application/atom+xml"}, body.encode(), {}
    if path.startswith("/bench/"):
        return 200, h, bench_page(path.rsplit("/", 1)[1]), {}
    if path == "/badenc.rss":
        # declared EUC-JP, but with bytes EUC-JP cannot decode
        body = (b'<?xml version="1.0" encoding="EUC-JP"?><rss><channel><item><link>/page/enc</link>'
                b'</item>\xda\x30\xfc\xff</channel></rss>')
        return 200, {"Content-Type": "application/rss+xml"}, body, {}
    if path == "/manyitems.rss":
        # n items; same=1 makes every link the same URL (the cap is counted
        # on links taken, before duplicates are dropped)
        n = int(query.get("n", ["10"])[0])
        port = query.get("port", [""])[0]
        same = query.get("same", [""])[0] == "1"
        items = "".join("<item><link>http://127.0.0.1:%s/feed-item/%s</link></item>"
                        % (port, "same" if same else "many%d" % i) for i in range(n))
        body = '<?xml version="1.0"?><rss version="2.0"><channel>%s</channel></rss>' % items
        return 200, {"Content-Type": "application/rss+xml"}, body.encode(), {}
    if path == "/bigtitle.html":
        # every short field far over its cap, in characters of 3 bytes
        long_url = "/img/" + "i" * 3000 + ".png"
        head = ('<meta name="description" content="%s">'
                '<meta property="og:description" content="%s">'
                '<meta property="og:type" content="%s">'
                '<meta property="og:image" content="%s">'
                '<link rel="icon" href="%s">'
                % ("説" * 20000, "明" * 20000, "t" * 500, long_url, long_url))
        page = html("題" * 1400000, "<p>small body</p>", head)
        return 200, h, page.encode(), {}
    if path == "/notfeed":
        return 200, h, b"<html><body>not a feed</body></html>", {}
    return 404, h, html("Not found", "<p>no route</p>").encode(), {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        parts = urlsplit(self.path)
        with HITS_LOCK:
            HITS[parts.path] = HITS.get(parts.path, 0) + 1
        second = self.server.server_address[1] == SECOND_PORT[0]
        ae = self.headers.get("Accept-Encoding", "")
        if not parts.path.startswith("/_"):
            STATE["last_ua"] = self.headers.get("User-Agent", "")
            STATE["last_ae"] = ae
        status, headers, body, opts = route(parts.path, parse_qs(parts.query), second, ae)
        if opts.get("sleep"):
            time.sleep(opts["sleep"])
        try:
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            if opts.get("chunked"):
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for i in range(0, len(body), 16384):
                    chunk = body[i:i + 16384]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
            else:
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
        # the crawler hangs up on purpose (size cap, time-out): not news
        pass


class Server6(Server):
    address_family = socket.AF_INET6


def fake_redis(sock):
    """Answer +PONG / +OK to every RESP command: enough for PING and AUTH."""
    def serve(conn):
        with conn:
            buf = b""
            while True:
                data = conn.recv(4096)
                if not data:
                    return
                buf += data
                # one reply per complete "*N" command array
                while buf.startswith(b"*"):
                    lines = buf.split(b"\r\n")
                    n = int(lines[0][1:])
                    if len(lines) < 1 + 2 * n + 1:
                        break
                    cmd = lines[2].upper()
                    conn.sendall(b"+PONG\r\n" if cmd == b"PING" else b"+OK\r\n")
                    buf = b"\r\n".join(lines[1 + 2 * n:])
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    rsock = socket.socket()
    rsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    rsock.bind(("127.0.0.1", 0))
    rsock.listen(16)
    threading.Thread(target=fake_redis, args=(rsock,), daemon=True).start()
    srv2 = Server(("127.0.0.1", 0), Handler)
    SECOND_PORT[0] = srv2.server_address[1]
    threading.Thread(target=srv2.serve_forever, daemon=True).start()
    port6 = 0
    try:
        srv6 = Server6(("::1", 0), Handler)
        port6 = srv6.server_address[1]
        threading.Thread(target=srv6.serve_forever, daemon=True).start()
    except OSError:
        pass
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write("%d %d %d %d\n" % (srv.server_address[1], rsock.getsockname()[1],
                                    srv2.server_address[1], port6))
    import os
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
