"""Local fake providers for the tests: HTTP servers on 127.0.0.1 (a free port each) that CHECK
the request signatures by recomputing them from the shared test secret, written here from the
providers' documentation independently of the adapters, and answer as the providers do; and an
SMTP server (aiosmtpd)."""

import base64
import hashlib
import hmac
import json
import threading
import urllib.parse
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeProvider:
    """An HTTP fake. Subclasses implement `answer(handler, path, query, body) -> (status, obj)`.
    `fail_next` holds forced answers used before normal processing (one per request)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.fail_next: list = []
        self.lock = threading.Lock()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parts.query))
                with provider.lock:
                    forced = provider.fail_next.pop(0) if provider.fail_next else None
                if forced is not None:
                    status, obj = forced
                else:
                    status, obj = provider.answer(self, parts.path, query, body)
                with provider.lock:
                    provider.requests.append(
                        {
                            "path": parts.path,
                            "query": query,
                            "body": body,
                            "status": status,
                            "answer": obj,
                            "headers": dict(self.headers),
                        }
                    )
                data = json.dumps(obj, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = _handle
            do_POST = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def answer(self, handler, path, query, body):  # pragma: no cover
        raise NotImplementedError

    @property
    def accepted(self) -> list[dict]:
        return [r for r in self.requests if r["status"] == 200 and self.is_success(r["answer"])]

    def is_success(self, answer) -> bool:
        return True


# --- Aliyun dysmsapi -------------------------------------------------------------------------
def aliyun_expected_signature(params: dict[str, str], secret: str, method: str) -> str:
    """From the Aliyun doc: sort, percent-encode (RFC 3986, space %20, * %2A, ~ kept), join,
    StringToSign = METHOD&%2F&encode(query), Base64(HMAC-SHA1(secret + "&"))."""

    def enc(value: str) -> str:
        out = urllib.parse.quote_plus(value, encoding="utf-8")
        return out.replace("+", "%20").replace("*", "%2A").replace("%7E", "~")

    query = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(params.items()))
    to_sign = method + "&" + enc("/") + "&" + enc(query)
    mac = hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


class FakeAliyun(FakeProvider):
    key_id = "test-key-id"
    secret = "test-key-secret"

    def __init__(self):
        super().__init__()
        self.nonces: set[str] = set()
        self.counter = 0

    def answer(self, handler, path, query, body):
        params = dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
        given = params.pop("Signature", "")
        if params.get("AccessKeyId") != self.key_id:
            return 404, {
                "Code": "InvalidAccessKeyId.NotFound",
                "Message": "Specified access key is not found.",
            }
        if given != aliyun_expected_signature(params, self.secret, handler.command):
            return 400, {
                "Code": "SignatureDoesNotMatch",
                "Message": "Specified signature is not matched with our calculation.",
            }
        if params["SignatureNonce"] in self.nonces:
            return 400, {
                "Code": "SignatureNonceUsed",
                "Message": "Specified signature nonce was used already.",
            }
        self.nonces.add(params["SignatureNonce"])
        for name in ("Action", "PhoneNumbers", "SignName", "TemplateCode", "Timestamp"):
            if not params.get(name):
                return 400, {"Code": "MissingParameter", "Message": name}
        json.loads(params.get("TemplateParam") or "{}")
        self.counter += 1
        return 200, {
            "Message": "OK",
            "RequestId": f"REQ{self.counter}",
            "BizId": f"9006197469364984{self.counter:04d}^0",
            "Code": "OK",
        }

    def is_success(self, answer):
        return answer.get("Code") == "OK"


# --- Tencent Cloud SMS -----------------------------------------------------------------------
def tencent_expected_signature(secret_key: str, headers: dict, body: bytes) -> tuple[str, str]:
    """From the Tencent Cloud API 3.0 doc (TC3-HMAC-SHA256)."""
    timestamp = int(headers["X-TC-Timestamp"])
    day = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    content_type = headers["Content-Type"]
    host = headers["Host"]
    canonical = (
        "POST\n/\n\n"
        + "content-type:"
        + content_type
        + "\n"
        + "host:"
        + host
        + "\n"
        + "\n"
        + "content-type;host"
        + "\n"
        + hashlib.sha256(body).hexdigest()
    )
    scope = day + "/sms/tc3_request"
    to_sign = (
        "TC3-HMAC-SHA256\n"
        + str(timestamp)
        + "\n"
        + scope
        + "\n"
        + hashlib.sha256(canonical.encode()).hexdigest()
    )

    def h(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    k = h(h(h(("TC3" + secret_key).encode(), day), "sms"), "tc3_request")
    return hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest(), scope


class FakeTencent(FakeProvider):
    secret_id = "AKIDtest"
    secret_key = "tencent-test-secret"

    def __init__(self):
        super().__init__()
        self.counter = 0

    def answer(self, handler, path, query, body):
        headers = handler.headers  # case-insensitive, as HTTP headers are
        auth = headers.get("Authorization", "")
        try:
            expected, scope = tencent_expected_signature(self.secret_key, headers, body)
        except (KeyError, ValueError, TypeError):
            expected, scope = "", ""
        wanted = (
            f"TC3-HMAC-SHA256 Credential={self.secret_id}/{scope}, "
            f"SignedHeaders=content-type;host, Signature={expected}"
        )
        if not expected or auth != wanted or headers.get("X-TC-Action") != "SendSms":
            return 200, {
                "Response": {
                    "Error": {
                        "Code": "AuthFailure.SignatureFailure",
                        "Message": "The provided credentials could not be validated.",
                    },
                    "RequestId": "r0",
                }
            }
        payload = json.loads(body)
        self.counter += 1
        return 200, {
            "Response": {
                "SendStatusSet": [
                    {
                        "SerialNo": f"5000:1045710669157053657849499{self.counter:03d}",
                        "PhoneNumber": payload["PhoneNumberSet"][0],
                        "Fee": 1,
                        "SessionContext": payload.get("SessionContext", ""),
                        "Code": "Ok",
                        "Message": "send success",
                        "IsoCode": "CN",
                    }
                ],
                "RequestId": f"r{self.counter}",
            }
        }

    def is_success(self, answer):
        return "Error" not in answer.get("Response", {})


# --- WeChat official account -----------------------------------------------------------------
class FakeWeChat(FakeProvider):
    app_id = "wx-test-app"
    app_secret = "wx-test-secret"

    def __init__(self):
        super().__init__()
        self.tokens: set[str] = set()
        self.token_fetches = 0
        self.msgid = 200228332

    def expire_tokens(self):
        self.tokens.clear()

    def answer(self, handler, path, query, body):
        if path == "/cgi-bin/token":
            if query.get("grant_type") != "client_credential" or query.get("appid") != self.app_id:
                return 200, {"errcode": 40013, "errmsg": "invalid appid"}
            if query.get("secret") != self.app_secret:
                return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}
            self.token_fetches += 1
            token = f"ACCESS_TOKEN_{self.token_fetches}"
            self.tokens.add(token)
            return 200, {"access_token": token, "expires_in": 7200}
        if path == "/cgi-bin/message/template/send":
            token = query.get("access_token", "")
            if token.startswith("ACCESS_TOKEN_") and token not in self.tokens:
                return 200, {"errcode": 42001, "errmsg": "access_token expired"}
            if token not in self.tokens:
                return 200, {"errcode": 40001, "errmsg": "invalid credential"}
            payload = json.loads(body)
            if not payload.get("touser") or not payload.get("template_id"):
                return 200, {"errcode": 47001, "errmsg": "data format error"}
            self.msgid += 1
            return 200, {"errcode": 0, "errmsg": "ok", "msgid": self.msgid}
        return 404, {"errcode": 404, "errmsg": "not found"}

    def is_success(self, answer):
        return answer.get("errcode", 0) == 0 and "msgid" in answer


# --- App push gateway ------------------------------------------------------------------------
class FakePush(FakeProvider):
    secret = "push-test-secret"

    def answer(self, handler, path, query, body):
        timestamp = handler.headers.get("X-Wuye-Timestamp", "")
        given = handler.headers.get("X-Wuye-Signature", "")
        expected = hmac.new(
            self.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(given, expected):
            return 401, {"error": "bad signature"}
        return 200, {"id": f"push-{len(self.requests) + 1}"}


# --- SMTP ------------------------------------------------------------------------------------
class FakeSmtp:
    """aiosmtpd on 127.0.0.1 and a free port; `messages` holds what it received."""

    def __init__(self):
        import socket

        from aiosmtpd.controller import Controller

        self.messages: list = []
        fake = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                fake.messages.append(envelope)
                return "250 Message accepted for delivery"

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()
