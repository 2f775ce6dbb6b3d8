"""Loaded by the app under test (PYTHONPATH): records every outbound connection that is not loopback.

The workbench promises no connection to the internet; the UI tests read the log this writes
(``UNDERWRITER_NETLOG``) and fail on any entry. Connections are recorded, then refused.
"""

import ipaddress
import os
import socket

_LOG = os.environ.get("UNDERWRITER_NETLOG")
_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex


def _outside(address):
    if not isinstance(address, tuple) or not address:
        return False  # unix sockets
    host = address[0]
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host != "localhost"


def _guard(sock, address):
    if _LOG and sock.family in (socket.AF_INET, socket.AF_INET6) and _outside(address):
        with open(_LOG, "a", encoding="utf-8") as log:
            log.write(f"{address!r}\n")
        raise OSError(f"outbound connection to {address!r} refused by the test guard")


def connect(self, address):
    _guard(self, address)
    return _connect(self, address)


def connect_ex(self, address):
    _guard(self, address)
    return _connect_ex(self, address)


socket.socket.connect = connect
socket.socket.connect_ex = connect_ex
