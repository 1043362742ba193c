"""The payment providers, each through its own SDK: WeChat Pay API v3 (`wechatpayv3`) and
Alipay (`python-alipay-sdk`). A provider client is built from one merchant's configuration and
a transport (HTTP to the provider, or the sandbox in-process)."""

from .base import NotifyRejected, PayStart, ProviderError, Transaction, Transport
from .registry import client_for

__all__ = ["NotifyRejected", "PayStart", "ProviderError", "Transaction", "Transport", "client_for"]
