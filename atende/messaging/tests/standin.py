"""A stand-in for the Telegram Bot API and the WhatsApp Cloud API on loopback (the real ones cannot be reached
from the test machines). It answers the documented endpoints Atende calls, checks their auth and request shape,
and records every request so tests can assert what was sent."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BOT_TOKEN = "123456:TEST-bot-token"
WA_TOKEN = "EAAG-test-access-token"
PHONE_NUMBER_ID = "106540352242922"
FILES = {"AgADBAADlarge": (b"\x89PNG\r\n\x1a\n" + b"0" * 64, "photos/file_7.png"),
         "1003383421387256": (b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "")}


class StandIn:
    def __init__(self):
        self.requests: list[dict] = []
        self.fail_next: list[int] = []  # status codes to answer the next send calls with
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, status, body, content_type="application/json"):
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                return json.loads(raw) if raw else {}

            def do_POST(self):
                body = self._body()
                outer.requests.append({"method": "POST", "path": self.path, "json": body,
                                       "auth": self.headers.get("Authorization", "")})
                if outer.fail_next:
                    return self._reply(outer.fail_next.pop(0), {"error": {"message": "stand-in failure"}})
                if self.path == f"/bot{BOT_TOKEN}/sendMessage":
                    if not isinstance(body.get("chat_id"), str | int) or not body.get("text"):
                        return self._reply(400, {"ok": False, "description": "Bad Request: message text is empty"})
                    return self._reply(200, {"ok": True, "result": {"message_id": 500 + len(outer.requests),
                                                                     "chat": {"id": body["chat_id"]}}})
                if self.path == f"/bot{BOT_TOKEN}/getFile":
                    found = FILES.get(body.get("file_id"))
                    if not found:
                        return self._reply(400, {"ok": False, "description": "Bad Request: invalid file_id"})
                    return self._reply(200, {"ok": True, "result": {"file_id": body["file_id"],
                                                                     "file_path": found[1]}})
                if self.path.startswith("/bot"):
                    return self._reply(401, {"ok": False, "description": "Unauthorized"})
                if self.path == f"/{PHONE_NUMBER_ID}/messages":
                    if self.headers.get("Authorization") != f"Bearer {WA_TOKEN}":
                        return self._reply(401, {"error": {"message": "Invalid OAuth access token."}})
                    if body.get("messaging_product") != "whatsapp" or body.get("type") not in ("text", "template"):
                        return self._reply(400, {"error": {"message": "(#100) Invalid parameter"}})
                    return self._reply(200, {"messaging_product": "whatsapp",
                                             "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                                             "messages": [{"id": f"wamid.out{len(outer.requests)}"}]})
                return self._reply(404, {"error": "not found"})

            def do_GET(self):
                outer.requests.append({"method": "GET", "path": self.path,
                                       "auth": self.headers.get("Authorization", "")})
                prefix = f"/file/bot{BOT_TOKEN}/"
                if self.path.startswith(prefix):
                    for content, path in FILES.values():
                        if path and self.path == prefix + path:
                            return self._reply(200, content, "image/png")
                    return self._reply(404, b"")
                if self.headers.get("Authorization") != f"Bearer {WA_TOKEN}":
                    return self._reply(401, {"error": {"message": "Invalid OAuth access token."}})
                media_id = self.path.strip("/")
                if media_id in FILES:
                    return self._reply(200, {"url": f"{outer.base}/media-bytes/{media_id}", "mime_type": "",
                                             "id": media_id})
                if media_id.startswith("media-bytes/") and media_id.split("/", 1)[1] in FILES:
                    return self._reply(200, FILES[media_id.split("/", 1)[1]][0], "application/pdf")
                return self._reply(404, {"error": "not found"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def sent(self, path_suffix: str) -> list[dict]:
        return [r for r in self.requests if r["method"] == "POST" and r["path"].endswith(path_suffix)]
