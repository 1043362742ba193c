"""WeChat official account template messages: an access token from `cgi-bin/token`, cached
until shortly before it expires and fetched again when WeChat says it is invalid or expired
(errcode 40001 / 42001 / 40014), then `cgi-bin/message/template/send`."""

import json
from urllib.parse import urlencode

from django.core.cache import cache

from .base import Backend, PermanentError, RetryableError, http_json

TOKEN_ERRORS = {40001, 40014, 42001}
RETRYABLE_ERRORS = {-1, 45009, 45011}  # system busy, API frequency limits


class WeChatTemplate(Backend):
    name = "wechat"
    channels = ("wechat",)

    def _cache_key(self) -> str:
        return f"wuye:notify:wechat-token:{self.config['app_id']}"

    def access_token(self, *, refresh: bool = False) -> str:
        key = self._cache_key()
        if not refresh:
            token = cache.get(key)
            if token:
                return token
        query = urlencode(
            {
                "grant_type": "client_credential",
                "appid": self.config["app_id"],
                "secret": self.config["app_secret"],
            }
        )
        answer = http_json(
            "GET", f"{self.config['api_base']}/cgi-bin/token?{query}", timeout=self.timeout
        )
        if "access_token" not in answer:
            code = answer.get("errcode")
            error = f"WeChat token {code}: {answer.get('errmsg', '')}"
            if code in RETRYABLE_ERRORS:
                raise RetryableError(error, code=str(code))
            raise PermanentError(error, code=str(code))
        cache.set(key, answer["access_token"], max(60, int(answer.get("expires_in", 7200)) - 300))
        return answer["access_token"]

    def payload(self, message) -> dict:
        tmpl = self.config.get("templates", {}).get(message.template_code)
        if not tmpl:
            raise PermanentError(f"no WeChat template configured for {message.template_code!r}")
        if isinstance(tmpl, str):
            tmpl = {"id": tmpl}
        fields = tmpl.get("fields") or {name: name for name in message.params}
        data = {key: {"value": str(message.params.get(src, ""))} for key, src in fields.items()}
        body = {"touser": message.address, "template_id": tmpl["id"], "data": data}
        if self.config.get("url"):
            body["url"] = self.config["url"]
        return body

    def send(self, message) -> str:
        body = json.dumps(self.payload(message), ensure_ascii=False).encode()
        for attempt in range(2):
            token = self.access_token(refresh=attempt > 0)
            answer = http_json(
                "POST",
                f"{self.config['api_base']}/cgi-bin/message/template/send?access_token={token}",
                body=body,
                headers={"Content-Type": "application/json; charset=utf-8"},
                timeout=self.timeout,
            )
            code = answer.get("errcode", 0)
            if code == 0:
                return str(answer["msgid"])
            if code in TOKEN_ERRORS and attempt == 0:
                continue
            error = f"WeChat {code}: {answer.get('errmsg', '')}"
            if code in RETRYABLE_ERRORS or code in TOKEN_ERRORS:
                raise RetryableError(error, code=str(code))
            raise PermanentError(error, code=str(code))
        raise RetryableError("WeChat token refused twice")  # pragma: no cover
