"""Collection's tables, one module per topic.

Every module in this package is imported here and its models re-exported, so an issue that
adds a topic (installment plans, disputes, formal demands, the legal file) adds its own module
file and edits nothing else: `from wuye.collection.models import ArrearsCase` keeps working.
"""

import importlib
import pkgutil

from django.db import models as _models

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _info.name.startswith("_"):
        continue
    _module = importlib.import_module(f"{__name__}.{_info.name}")
    for _name, _value in vars(_module).items():
        if _name.startswith("_"):
            continue
        if isinstance(_value, type) and issubclass(_value, _models.Model):
            if _value.__module__ == _module.__name__:
                globals()[_name] = _value
        elif _name in getattr(_module, "__all__", ()):
            globals()[_name] = _value
