"""A small XML-RPC client for supervisord's unix socket.

The stdlib's xmlrpc.client imports http.client (and with it email and ssl: ~35 ms),
which is a third of what `zagi up -d` may cost against `pg_ctl start -w`
(bench/services.py). The peer is our own supervisord on a private socket and the calls
are few (start, stop, info, shutdown), so this speaks exactly that: one HTTP/1.0 POST
per call, the XML-RPC value types supervisor returns, faults as exceptions.
"""

from __future__ import annotations

import socket
from typing import Any

MAX_RESPONSE = 8 << 20  # getAllProcessInfo of a few programs is a few KB


def escape(text: str) -> str:
    # xml.sax.saxutils.escape, without the urllib it imports (~25 ms)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Fault(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _param(v: object) -> str:
    if isinstance(v, bool):
        return f"<value><boolean>{int(v)}</boolean></value>"
    if isinstance(v, int):
        return f"<value><int>{v}</int></value>"
    return f"<value><string>{escape(str(v))}</string></value>"


def call(path: str, method: str, *params: object, timeout: float = 60.0) -> Any:
    """supervisor.METHOD(*params) over the unix socket at `path`."""
    body = ("<?xml version='1.0'?><methodCall><methodName>supervisor."
            f"{escape(method)}</methodName><params>"
            + "".join(f"<param>{_param(p)}</param>" for p in params)
            + "</params></methodCall>").encode()
    head = ("POST /RPC2 HTTP/1.0\r\nHost: localhost\r\nContent-Type: text/xml\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(head + body)
        chunks, size = [], 0
        while chunk := s.recv(65536):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_RESPONSE:
                raise OSError("supervisord's answer is too large")
    raw = b"".join(chunks)
    status, _, rest = raw.partition(b"\r\n")
    if b" 200 " not in status + b" ":
        raise OSError(f"supervisord answered {status.decode(errors='replace')!r}")
    return _response(rest.partition(b"\r\n\r\n")[2])


def _response(xml: bytes) -> Any:
    from xml.etree import ElementTree

    root = ElementTree.fromstring(xml)  # noqa: S314 - our own supervisord, on a private socket
    fault = root.find("fault/value")
    if fault is not None:
        info = _value(fault)
        raise Fault(int(info.get("faultCode", 0)), str(info.get("faultString", "")))
    value = root.find("params/param/value")
    return None if value is None else _value(value)


def _value(v: Any) -> Any:
    kids = list(v)
    if not kids:
        return v.text or ""  # a bare value is a string
    t = kids[0]
    tag = t.tag
    if tag == "string":
        return t.text or ""
    if tag in ("int", "i4", "i8"):
        return int(t.text)
    if tag == "boolean":
        return t.text.strip() == "1"
    if tag == "double":
        return float(t.text)
    if tag == "nil":
        return None
    if tag == "array":
        return [_value(x) for x in t.findall("data/value")]
    if tag == "struct":
        return {m.findtext("name"): _value(m.find("value")) for m in t.findall("member")}
    return t.text or ""
