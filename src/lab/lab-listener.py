#!/usr/bin/env python3
"""casfleet lab listener: one process that listens on the CAS ports of every host of a lab.

Why one process: 100+ hosts x 11 ports as separate processes would cost seconds to start and
hundreds of MB. A socket belongs to the network namespace its creator was in *when it was created*,
so this process enters each host's namespace (setns), opens that host's sockets, and moves on.
Python 3.11 has no os.setns, hence ctypes.

Connections are accepted and closed at once: a probe only needs "connected" (open), "refused"
(closed) or "no answer" (filtered, i.e. a firewall DROP). Ports owned by a batm service follow
/batm/run-state/<service>: when `batm-manage stop gate` writes "stopped", gate's port closes.

Usage: lab-listener.py <listener.json>   (written by `casfleet lab up`; format in lab-listener.ts)
"""

import ctypes
import json
import os
import resource
import selectors
import socket
import sys
import time

CLONE_NEWNET = 0x40000000
POLL_SECONDS = 0.5

_libc = ctypes.CDLL(None, use_errno=True)


def setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "setns: " + os.strerror(err))


class Host:
    def __init__(self, spec):
        self.id = spec["id"]
        self.netns_fd = os.open(spec["netns"], os.O_RDONLY | os.O_CLOEXEC)
        self.run_state = spec["runState"]
        self.sockets = spec["sockets"]  # [{address, port, service|None}]
        self.open = {}  # (address, port) -> socket
        self.state_mtime = None
        self.services = {}

    def read_services(self):
        """service -> running? ; re-read only when the run-state directory changed."""
        try:
            mtime = os.stat(self.run_state).st_mtime_ns
        except FileNotFoundError:
            mtime = -1
        if mtime == self.state_mtime:
            return False
        self.state_mtime = mtime
        services = {}
        for name in ("gate", "master", "admin"):
            try:
                with open(os.path.join(self.run_state, name)) as f:
                    services[name] = f.read().strip() != "stopped"
            except FileNotFoundError:
                services[name] = True
        self.services = services
        return True


def open_socket(host, address, port):
    setns(host.netns_fd)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
        sock.listen(128)
        sock.setblocking(False)
    except OSError as error:
        sock.close()
        raise OSError(error.errno, "%s: cannot listen on %s:%d: %s" % (host.id, address, port, error.strerror))
    return sock


def reconcile(host, selector, home_fd):
    """Open the sockets whose service runs, close those whose service is stopped."""
    if not host.read_services():
        return
    for entry in host.sockets:
        key = (entry["address"], entry["port"])
        service = entry.get("service")
        wanted = service is None or host.services.get(service, True)
        sock = host.open.get(key)
        if wanted and sock is None:
            sock = open_socket(host, *key)
            selector.register(sock, selectors.EVENT_READ)
            host.open[key] = sock
        elif not wanted and sock is not None:
            selector.unregister(sock)
            sock.close()
            del host.open[key]
    setns(home_fd)


def main():
    if len(sys.argv) != 2:
        print("usage: lab-listener.py <listener.json>", file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        spec = json.load(f)

    # One fd per socket plus one per namespace: raise the soft limit as far as needed and allowed.
    need = sum(len(h["sockets"]) + 1 for h in spec["hosts"]) + 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need if hard == resource.RLIM_INFINITY else min(need, hard), hard))

    home_fd = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    selector = selectors.DefaultSelector()
    hosts = [Host(h) for h in spec["hosts"]]
    for host in hosts:
        reconcile(host, selector, home_fd)
    print("ready %d sockets on %d hosts" % (sum(len(h.open) for h in hosts), len(hosts)), flush=True)

    next_poll = time.monotonic() + POLL_SECONDS
    while True:
        for key, _ in selector.select(timeout=POLL_SECONDS):
            try:
                conn, _ = key.fileobj.accept()
                conn.close()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                pass
        now = time.monotonic()
        if now >= next_poll:
            next_poll = now + POLL_SECONDS
            for host in hosts:
                try:
                    reconcile(host, selector, home_fd)
                except OSError as error:
                    # Keep serving the other hosts; retry this one on the next poll.
                    print("lab-listener: %s" % error, file=sys.stderr, flush=True)
                    host.state_mtime = None
                    setns(home_fd)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except OSError as error:
        print("lab-listener: %s" % error, file=sys.stderr, flush=True)
        sys.exit(1)
