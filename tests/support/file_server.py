"""A real HTTP server on loopback that serves given bytes by path, standing in for the
download hosts the fetch commands use (alphacephei.com, Hugging Face) which this machine
cannot reach. A path under /cut/ claims the whole file, sends what it has, and hangs up."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def serving(files: dict[str, bytes]) -> Iterator[str]:
    """Serve ``files`` (path -> body); yields the base URL."""

    class Files(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = files.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            claimed = len(body) * 2 if self.path.startswith("/cut/") else len(body)
            self.send_header("Content-Length", str(claimed))
            self.end_headers()
            self.wfile.write(body)
            if claimed != len(body):
                self.wfile.flush()
                self.connection.shutdown(2)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Files)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
