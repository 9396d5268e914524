"""Synthetic log files in 16 formats, for measuring how well a model trained on some log formats does on others.

The experiment it serves: ``nzip train`` a model on the 8 formats that :func:`split` puts in its train half, then
compress the 8 formats of its test half with that model and compare against a general model and the classical
compressors. A model that learned "what logs look like" (timestamps, IPs, key=value, hex ids) should carry over to
formats it never saw; one that only memorised its training formats will not.

Each format has its own generator with many message templates and vocabularies (paths, user agents, package names,
hosts, error messages), status codes at realistic frequencies, timestamps that only move forward by small random
steps, and addresses drawn from a few subnets with heavy repeats: files with the repetition of real logs, not a
handful of lines over and over. Everything is invented for this module; no log text is copied from anywhere.

Deterministic: the same seed gives byte-identical files on any machine. Only random.Random with integer seeds and
integer or basic float arithmetic are used: no clock, no locale (month names are ours, not strftime's), no hash().
A smaller size gives a prefix of a larger one.

    python -m benchmarks.logs OUT_DIR [--size N] [--seed S]
"""

from __future__ import annotations

import argparse
import base64
import csv
import io
import json
import random
import re
import sys
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Iterator

FORMATS: dict[str, Callable[[random.Random, int], bytes]] = {}   # name -> fn(rng, n_bytes), in the order defined


def _format(name: str):
    """Registers a line generator (rng -> endless iterator of str) as FORMATS[name], a fn(rng, n_bytes) -> bytes."""
    def register(gen: Callable[[random.Random], Iterator[str]]):
        def produce(rng: random.Random, n_bytes: int) -> bytes:
            return _take(gen(rng), n_bytes)
        produce.__name__, produce.__doc__ = gen.__name__, gen.__doc__
        FORMATS[name] = produce
        return produce
    return register


def _take(lines: Iterator[str], n_bytes: int) -> bytes:
    """Lines until at least n_bytes, then cut at the first line end from there (a stack trace may be cut short)."""
    out, size = [], 0
    for chunk in lines:
        if size >= n_bytes:
            break
        out.append(chunk)
        size += len(chunk)      # every generator writes ASCII, so characters are bytes
    data = "".join(out).encode("ascii")
    end = data.find(b"\n", max(n_bytes - 1, 0))
    return data[:end + 1] if end >= 0 else data


# ---- shared vocabulary ------------------------------------------------------------------------------------------

MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
WORDS = ("account alpha archive basket billing blue budget cache camera catalog cloud coffee config coupon dashboard "
         "delta desk docs editor event export feed garden guide health home image invoice kitchen label lamp launch "
         "ledger market media notes order orange packet photo pixel plan policy profile queue report review river "
         "search server settings share shop signal sport status stock summer table team ticket travel upload user "
         "video wallet widget winter").split()
USERS = "deploy alice bob carol dave erin frank grace heidi ivan judy oscar peggy ubuntu admin backup jenkins".split()
BAD_USERS = "admin test oracle guest ubnt pi support user ftpuser postgres git hadoop mysql nagios 123456".split()
SERVICES = "postgres redis kafka payments-api inventory-svc search-svc auth-svc mailer s3".split()
TABLES = "users orders order_items products sessions payments events invoices audit_log customers".split()
PUBLIC_NETS = ["203.0.113.{}", "198.51.100.{}", "192.0.2.{}", "45.33.{}.{}", "66.249.{}.{}", "185.220.{}.{}",
               "91.198.{}.{}", "104.28.{}.{}", "81.2.{}.{}", "37.120.{}.{}"]
PRIVATE_NETS = ["10.0.{}.{}", "10.12.{}.{}", "172.16.{}.{}", "192.168.1.{}"]
_WEBKIT = "AppleWebKit/537.36 (KHTML, like Gecko)"
USER_AGENTS = [  # most common first
    f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) {_WEBKIT} Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.2 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 "
    "Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    f"Mozilla/5.0 (Linux; Android 14; Pixel 7) {_WEBKIT} Chrome/119.0.6045.163 Mobile Safari/537.36",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "curl/8.4.0", "python-requests/2.31.0", "Go-http-client/1.1", "kube-probe/1.28", "Prometheus/2.48.0",
    f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) {_WEBKIT} Chrome/119.0.0.0 Safari/537.36 Edg/119.0.0.0",
]
WEB_PATHS = [  # most popular first: _skew() favours the front
    "/", "/static/js/app.{hex}.js", "/static/css/main.{hex}.css", "/api/v1/products?category={w}&page={a}",
    "/api/v1/users/{id}", "/favicon.ico", "/products/{w}-{w2}-{id}", "/api/v1/cart", "/images/{w}/{w2}-{n}.jpg",
    "/search?q={w}+{w2}", "/api/v1/orders/{id}", "/login", "/health", "/api/v1/orders/{id}/items",
    "/blog/{year}/{month:02d}/{w}-{w2}", "/checkout", "/account/settings", "/robots.txt", "/metrics", "/logout",
    "/api/v2/search?query={w}&limit={a}0", "/docs/{w}/{w2}.html", "/sitemap.xml", "/graphql", "/feed.xml",
    "/download/{w}-{a}.{n}.tar.gz", "/wp-login.php", "/.env", "/api/v1/{w}/{id}/comments", "/.git/config",
]
STATIC_PREFIXES = ("/static", "/images", "/favicon", "/robots", "/sitemap", "/feed", "/download", "/docs", "/blog")
STATUSES = [(200, 700), (304, 70), (404, 60), (302, 40), (301, 20), (201, 15), (204, 10), (400, 12), (401, 8),
            (403, 8), (500, 6), (502, 4), (503, 3), (499, 2), (504, 2)]
METHODS = [("GET", 820), ("POST", 120), ("HEAD", 25), ("PUT", 18), ("DELETE", 8), ("OPTIONS", 6), ("PATCH", 5)]

APP_MESSAGES = [  # (level, template): what the services of an imaginary web shop say; the common ones first
    ("INFO", "User {user} logged in from {ip}"),
    ("INFO", "Order {id} created for customer {id2}, {a} items, total {n}.{n2:02d} EUR"),
    ("INFO", "Payment {hex} captured for order {id}"),
    ("WARN", "Payment {hex} declined for order {id}: {decline}"),
    ("INFO", "Sent {kind} email to {user}@example.com"),
    ("DEBUG", "Cache hit for key {w}:{id}"),
    ("DEBUG", "Cache miss for key {w}:{id}, loading from database"),
    ("INFO", "Processed batch of {n} {w} events in {ms} ms"),
    ("WARN", "Slow request: {method} {path} took {ms}{a} ms"),
    ("INFO", "Scheduled job {w}-{w2} started"),
    ("INFO", "Scheduled job {w}-{w2} finished in {ms} ms"),
    ("ERROR", "Failed to connect to {svc} at {lan}:{svcport}: connection refused"),
    ("WARN", "Retrying request to {svc} (attempt {a} of 5)"),
    ("INFO", "Health check passed"),
    ("DEBUG", "Fetched {n} rows from {table} in {ms} ms"),
    ("ERROR", "Request {uuid} failed: upstream {svc} returned 503"),
    ("INFO", "Session {hex} expired for user {user}"),
    ("WARN", "Rate limit exceeded for API key {hex} ({n}0 requests in 60 s)"),
    ("INFO", "Uploaded {w}-{id}.pdf ({big} bytes) to s3://shop-{w2}-assets/"),
    ("INFO", "Reloaded configuration from /etc/shop/{w}.yaml"),
    ("WARN", "Queue {w} depth is {n}00, above threshold"),
    ("ERROR", "Invalid payload from {ip}: missing field '{field}'"),
    ("INFO", "Connected to {svc} at {lan}:{svcport}"),
    ("INFO", "Inventory updated for SKU {sku}: {n} in stock"),
    ("WARN", "Disk usage on /var/lib/{svc} at {pct}%"),
    ("INFO", "Refund issued for order {id}: {n}.{n2:02d} EUR"),
    ("DEBUG", "Feature flag {w}_{w2} evaluated to {bool} for user {user}"),
    ("INFO", "Exported {big} records to {w}-{id}.csv"),
    ("ERROR", "Timeout after {ms} ms waiting for lock on {table}:{id}"),
    ("INFO", "Webhook delivered to https://hooks.{w}.example.net/{hex} ({status})"),
]
KERNEL_MESSAGES = [
    "EXT4-fs (nvme0n1p2): mounted filesystem {uuid} ro with ordered data mode. Quota mode: none.",
    "usb 1-{a}: new high-speed USB device number {n} using xhci_hcd",
    "usb 1-{a}: New USB device found, idVendor={h4}, idProduct={h4b}, bcdDevice= 1.{a}0",
    "usb 1-{a}: USB disconnect, device number {n}",
    "e1000e 0000:00:1f.6 eno1: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx",
    "IPv6: ADDRCONF(NETDEV_CHANGE): eno1: link becomes ready",
    "docker0: port {a}(veth{h7}) entered blocking state", "docker0: port {a}(veth{h7}) entered forwarding state",
    "device veth{h7} entered promiscuous mode", "eth0: renamed from veth{h7}",
    "br-{h12}: port {a}(veth{h7}) entered disabled state",
    "TCP: request_sock_TCP: Possible SYN flooding on port {svcport}. Sending cookies.  Check SNMP counters.",
    "perf: interrupt took too long (2{n}1 > 2{n}0), lowering kernel.perf_event_max_sample_rate to 7{n}00",
    "Out of memory: Killed process {pid} (java) total-vm:{big}kB, anon-rss:{big2}kB, file-rss:0kB, shmem-rss:0kB, "
    "UID:1000 pgtables:{n}20kB oom_score_adj:0",
    "{proc}[{pid}]: segfault at {h8} ip 00007f{h8}{h4} sp 00007ffc{h8} error 4 in libc.so.6[7f{h8}+195000]",
    "audit: type=1400 audit(17{big}.{n}1:{id}): apparmor=\"DENIED\" operation=\"open\" profile=\"/usr/sbin/{proc}\" "
    "name=\"/proc/{pid}/status\" pid={pid} comm=\"{proc}\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0",
    "blk_update_request: I/O error, dev sda, sector {big} op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0",
    "nvme nvme0: {a}/0/0 default/read/poll queues", "loop{a}: detected capacity change from 0 to {big}",
    "Bluetooth: hci0: Firmware revision 0.{a} build {n} week {n2} 2023", "wlp2s0: authenticated", "wlp2s0: associated",
    "NFSD: starting 90-second grace period (net f0000000)",
    "cgroup: fork rejected by pids controller in /system.slice/{proc}.service",
    "overlayfs: upperdir is in-use as upperdir/workdir of another mount, accessing files from both mounts will "
    "result in undefined behavior.",
    "EXT4-fs (sdb1): warning: mounting fs with errors, running e2fsck is recommended",
    "nf_conntrack: nf_conntrack: table full, dropping packet",
    "xhci_hcd 0000:00:14.0: WARN Set TR Deq Ptr cmd failed due to incorrect slot or ep state.",
    "i915 0000:00:02.0: [drm] GPU HANG: ecode 12:1:85dffffb, in {proc} [{pid}]",
    "CIFS: VFS: \\\\fs01.corp.example.com\\{w} has not responded in 180 seconds. Reconnecting...",
    "INFO: task {proc}:{pid} blocked for more than 120 seconds.", "kauditd_printk_skb: {n} callbacks suppressed",
]


def _hex(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _skew(rng: random.Random, seq):
    """An element with a Zipf-like bias to the front: the product of two uniforms is mostly small."""
    return seq[int(len(seq) * rng.random() * rng.random())]


def _pick(rng: random.Random, table):
    """A value from [(value, weight), ...]."""
    return rng.choices([v for v, _ in table], [w for _, w in table])[0]


def _ip(rng: random.Random, nets=PUBLIC_NETS) -> str:
    net = rng.choice(nets)
    return net.format(*(rng.randrange(1, 255) for _ in range(net.count("{}"))))


def _pool(rng: random.Random, n: int, nets=PUBLIC_NETS) -> list[str]:
    """n addresses to draw clients from with _skew(): a few busy ones, a long tail."""
    return [_ip(rng, nets) for _ in range(n)]


def _ms(rng: random.Random, scale: int = 800) -> int:
    r = rng.random()
    return 1 + int(scale * r * r * r)       # latencies and sizes: mostly small, a long tail


_MAKERS: dict[str, Callable[[random.Random], object]] = {   # {name} in a template -> how its value is made
    "w": lambda r: r.choice(WORDS), "id": lambda r: r.randrange(1, 250000), "n": lambda r: r.randrange(1, 100),
    "a": lambda r: r.randrange(1, 10), "big": lambda r: r.randrange(1000, 9000000), "hex": lambda r: _hex(r, 8),
    "h": lambda r: _hex(r, 1), "uuid": _uuid, "user": lambda r: _skew(r, USERS), "ip": _ip,
    "lan": lambda r: _ip(r, PRIVATE_NETS), "port": lambda r: r.randrange(32768, 61000), "ms": _ms,
    "pid": lambda r: r.randrange(900, 60000), "svc": lambda r: r.choice(SERVICES), "table": lambda r: r.choice(TABLES),
    "svcport": lambda r: r.choice([5432, 6379, 9092, 8080, 443, 9200, 3306, 25]),
    "year": lambda r: r.randrange(2018, 2025), "month": lambda r: r.randrange(1, 13),
    "method": lambda r: _pick(r, METHODS), "path": lambda r: _path(r), "status": lambda r: _pick(r, STATUSES),
    "pct": lambda r: r.randrange(80, 100), "bool": lambda r: r.choice(["true", "false"]),
    "sku": lambda r: f"{r.choice(WORDS)[:3].upper()}-{r.randrange(1000, 99999)}",
    "field": lambda r: r.choice(["customer_id", "amount", "currency", "items", "email", "address.zip", "sku"]),
    "decline": lambda r: r.choice(["insufficient_funds", "card_expired", "do_not_honor", "fraud_suspected"]),
    "kind": lambda r: r.choice(["order-confirmation", "password-reset", "shipping-update", "welcome", "invoice"]),
    "proc": lambda r: r.choice(["java", "node", "python3", "nginx", "containerd-shim", "chrome", "postgres", "cupsd"]),
}


class _Values(dict):
    """Template values made on first use: {w2} is another word, {h8} 8 hex digits; a name used twice is one value."""
    def __init__(self, rng: random.Random, fixed: dict):
        super().__init__(fixed)
        self.rng = rng

    def __missing__(self, key: str):
        digits = re.fullmatch(r"h(\d+)[a-z]?", key)       # {h8}, {h8b}: hex of that many digits
        value = _hex(self.rng, int(digits[1])) if digits else _MAKERS[key.rstrip("0123456789")](self.rng)
        self[key] = value
        return value


def _sub(rng: random.Random, template: str, **fixed) -> str:
    return template.format_map(_Values(rng, fixed))


def _path(rng: random.Random) -> str:
    return _sub(rng, _skew(rng, WEB_PATHS))


def _request(rng: random.Random) -> tuple[str, str]:
    """(method, path): pages and assets are only fetched; the API and forms are also written to."""
    path = _path(rng)
    fetched = path == "/" or path.startswith(STATIC_PREFIXES)
    return ("GET" if fetched and rng.random() < 0.98 else _pick(rng, METHODS)), path


class _Clock:
    """Time that only moves forward, by small random steps, with an occasional quiet spell (logs are bursty)."""
    def __init__(self, rng: random.Random, step_ms: int = 1000):
        self.rng, self.step_ms = rng, step_ms
        self.t = datetime(2023, 1, 1) + timedelta(seconds=rng.randrange(500 * 86400))

    def tick(self, step_ms: int | None = None) -> datetime:
        step = step_ms or self.step_ms
        ms = self.rng.randrange(step) if self.rng.random() < 0.97 else self.rng.randrange(step * 40)
        self.t += timedelta(microseconds=ms * 1000 + self.rng.randrange(1000))
        return self.t


class _Uptime:
    """Seconds since boot as the kernel prints them, kept in integer microseconds so that printing is exact."""
    def __init__(self, rng: random.Random, start_s: int = 0):
        self.rng, self.us = rng, start_s * 1_000_000 + rng.randrange(1_000_000 if start_s else 1000)

    def tick(self, max_us: int) -> str:
        self.us += self.rng.randrange(max_us)
        return f"[{self.us // 1_000_000:5d}.{self.us % 1_000_000:06d}]"


def _bsd(t: datetime) -> str:
    return f"{MONTHS[t.month - 1]} {t.day:2d} {t:%H:%M:%S}"


def _clf(t: datetime, frac: str = "") -> str:
    return f"{t.day:02d}/{MONTHS[t.month - 1]}/{t.year}:{t:%H:%M:%S}{frac}"


def _iso(t: datetime, timespec: str = "milliseconds") -> str:
    return t.isoformat(timespec=timespec) + "Z"


def _ymd(t: datetime, frac: str = "") -> str:
    return f"{t:%Y-%m-%d %H:%M:%S}{frac}"


def _millis(t: datetime) -> str:
    return f"{t.microsecond // 1000:03d}"


# ---- the 16 formats, in FORMATS order: even indexes train, odd indexes test -------------------------------------

@_format("apache-access")
def apache_access(rng):
    """Apache combined log format; each client keeps its user agent."""
    clock, clients, agent = _Clock(rng, 600), _pool(rng, 400, PUBLIC_NETS + PRIVATE_NETS[:1]), {}
    while True:
        t, ip, status, (method, path) = clock.tick(), _skew(rng, clients), _pick(rng, STATUSES), _request(rng)
        size = "-" if status in (204, 304) else _ms(rng, 90000) + 150
        ref = rng.choice(["-", "-", "https://www.google.com/", f"https://shop.example.com{_path(rng)}"])
        user = "-" if rng.random() < 0.97 else rng.choice(USERS)
        ua = agent.setdefault(ip, _skew(rng, USER_AGENTS))
        yield f'{ip} - {user} [{_clf(t)} +0000] "{method} {path} HTTP/1.1" {status} {size} "{ref}" "{ua}"\n'


NGINX_ERRORS = [  # (level, message, names an upstream)
    ("error", 'open() "/var/www/html{path}" failed (2: No such file or directory)', False),
    ("error", "upstream timed out (110: Connection timed out) while reading response header from upstream", True),
    ("error", "connect() failed (111: Connection refused) while connecting to upstream", True),
    ("error", "recv() failed (104: Connection reset by peer) while reading response header from upstream", True),
    ("warn", "an upstream response is buffered to a temporary file /var/cache/nginx/proxy_temp/{a}/{n}/00000{id}",
     True),
    ("error", "client intended to send too large body: {big} bytes", False),
    ("error", 'directory index of "/var/www/html/{w}/" is forbidden', False),
    ("error", 'limiting requests, excess: {a}.{n}0 by zone "api"', False),
    ("crit", "SSL_do_handshake() failed (SSL: error:0A00006C:SSL routines::bad key share) while SSL handshaking",
     False),
    ("info", "client closed connection while waiting for request", False),
    ("warn", "upstream server temporarily disabled while connecting to upstream", True),
    ("error", 'FastCGI sent in stderr: "PHP message: PHP Warning:  Undefined variable ${w} in /var/www/html/{w2}.php '
              'on line {n}" while reading response header from upstream', True),
    ("error", "no live upstreams while connecting to upstream", True),
    ("warn", 'upstream sent more data than specified in "Content-Length" header while reading upstream', True),
]
NGINX_NOTICES = ["signal process started", 'using the "epoll" event method', "start worker process {pid}",
                 "gracefully shutting down", "reconfiguring", "exiting"]


@_format("nginx-error")
def nginx_error(rng):
    """nginx error.log: per-worker pids, a growing connection counter, client/server/request/upstream context."""
    clock, clients, conn = _Clock(rng, 4000), _pool(rng, 150), 1
    master = rng.randrange(800, 3000)
    workers = [master + i for i in range(1, 5)]
    servers = ["shop.example.com", "api.example.com", "static.example.com"]
    while True:
        t, pid = clock.tick(), rng.choice(workers)
        conn += rng.randrange(1, 400)
        if rng.random() < 0.02:     # a reload: the master process talking, no request context
            msg = _sub(rng, rng.choice(NGINX_NOTICES), pid=pid)
            yield f"{t:%Y/%m/%d %H:%M:%S} [notice] {master}#{master}: {msg}\n"
            continue
        level, msg, upstream = _skew(rng, NGINX_ERRORS)
        (method, path), server = _request(rng), _skew(rng, servers)
        line = (f"{t:%Y/%m/%d %H:%M:%S} [{level}] {pid}#{pid}: *{conn} {_sub(rng, msg, path=path)}, "
                f'client: {_skew(rng, clients)}, server: {server}, request: "{method} {path} HTTP/1.1"')
        if upstream:
            line += f', upstream: "http://10.0.2.{rng.randrange(10, 16)}:8080{path}"'
        yield line + f', host: "{server}"\n'


SSHD = [  # brute force from outside first, then the team's own logins
    "Invalid user {bad} from {ip} port {port}",
    "Failed password for invalid user {bad} from {ip} port {port} ssh2",
    "Failed password for {user} from {ip} port {port} ssh2",
    "Connection closed by invalid user {bad} {ip} port {port} [preauth]",
    "Received disconnect from {ip} port {port}:11: Bye Bye [preauth]",
    "Disconnected from invalid user {bad} {ip} port {port} [preauth]",
    "Accepted publickey for {user} from {lan} port {port} ssh2: ED25519 SHA256:{key}",
    "pam_unix(sshd:session): session opened for user {user}(uid=10{n:02d}) by (uid=0)",
    "pam_unix(sshd:session): session closed for user {user}",
    "Received disconnect from {lan} port {port}:11: disconnected by user",
    "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}  user={user}",
    "error: kex_exchange_identification: Connection closed by remote host",
    "Connection reset by {ip} port {port} [preauth]",
    "banner exchange: Connection from {ip} port {port}: invalid format",
]
CRON_COMMANDS = [
    "cd / && run-parts --report /etc/cron.hourly", "command -v debian-sa1 > /dev/null && debian-sa1 1 1",
    "test -x /usr/sbin/anacron || {{ cd / && run-parts --report /etc/cron.daily; }}",
    "/usr/local/bin/backup.sh --target s3://backups/{w} >/dev/null 2>&1", "/opt/shop/bin/cleanup --older-than {a}d",
    "[ -x /usr/lib/php/sessionclean ] && if [ ! -d /run/systemd/system ]; then /usr/lib/php/sessionclean; fi",
]
SYSTEMD = [
    "Started Session {n} of User {user}.", "Starting Daily apt download activities...",
    "apt-daily.service: Deactivated successfully.", "Finished Daily apt download activities.",
    "Starting Rotate log files...", "logrotate.service: Deactivated successfully.",
    "Starting Cleanup of Temporary Directories...", "systemd-tmpfiles-clean.service: Deactivated successfully.",
    "session-{n}.scope: Deactivated successfully.", "{w}-sync.service: Consumed {a}.{n:02d}s CPU time.",
    "Started Run anacron jobs.", "Starting Message of the Day...", "motd-news.service: Deactivated successfully.",
    "Reloading.", "Started snap.{w}.hook.configure-{uuid}.scope.", "Starting Refresh fwupd metadata and update motd...",
    "shop-{w}.service: Main process exited, code=exited, status=1/FAILURE",
    "shop-{w}.service: Scheduled restart job, restart counter is at {a}.",
]


@_format("syslog-bsd")
def syslog_bsd(rng):
    """RFC 3164 lines as /var/log/syslog holds them (no <PRI>): sshd brute force, cron, systemd, kernel, sudo."""
    clock, host, attackers = _Clock(rng, 3000), rng.choice(["web01", "bastion", "db-2", "app-prod-3"]), _pool(rng, 60)
    pid, logind, resolved, boot_s = rng.randrange(20000, 90000), rng.randrange(500, 900), rng.randrange(400, 500), 10**5
    sshd_pid = cron_pid = pid
    while True:
        t, r, pid = clock.tick(), rng.random(), pid + rng.randrange(1, 40)
        head = f"{_bsd(t)} {host}"
        if r < 0.40:
            sshd_pid = pid if rng.random() < 0.4 else sshd_pid       # one sshd process logs a few lines
            msg = _sub(rng, _skew(rng, SSHD), bad=_skew(rng, BAD_USERS), ip=_skew(rng, attackers),
                       key=base64.b64encode(rng.randbytes(32)).decode().rstrip("="))
            yield f"{head} sshd[{sshd_pid}]: {msg}\n"
        elif r < 0.60:
            cron_pid = pid if rng.random() < 0.5 else cron_pid
            msg = rng.choice(["pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)",
                              f"(root) CMD ({_sub(rng, rng.choice(CRON_COMMANDS))})",
                              "pam_unix(cron:session): session closed for user root"])
            yield f"{head} CRON[{cron_pid}]: {msg}\n"
        elif r < 0.80:
            yield f"{head} systemd[1]: {_sub(rng, _skew(rng, SYSTEMD))}\n"
        elif r < 0.88:
            boot_s += rng.randrange(1, 400)
            msg = _sub(rng, rng.choice(KERNEL_MESSAGES))
            yield f"{head} kernel: [{boot_s:6d}.{rng.randrange(10**6):06d}] {msg}\n"
        else:
            user, n = _skew(rng, USERS), rng.randrange(1, 3000)
            unit = rng.choice(["nginx", "shop-api", "postgresql", "redis-server"])
            yield rng.choice([
                f"{head} systemd-logind[{logind}]: New session {n} of user {user}.\n",
                f"{head} systemd-logind[{logind}]: Removed session {n}.\n",
                f"{head} sudo[{pid}]:   {user} : TTY=pts/{n % 4} ; PWD=/home/{user} ; USER=root ; "
                f"COMMAND=/usr/bin/systemctl restart {unit}\n",
                f"{head} systemd-resolved[{resolved}]: Using degraded feature set UDP instead of UDP+EDNS0 "
                f"for DNS server 10.0.0.2.\n",
                f'{head} rsyslogd: [origin software="rsyslogd" swVersion="8.2112.0" x-pid="{logind - 3}" '
                f'x-info="https://www.rsyslog.com"] rsyslogd was HUPed\n'])


@_format("syslog-5424")
def syslog_5424(rng):
    """RFC 5424 lines from application containers: <PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG."""
    clock, seq = _Clock(rng, 700), rng.randrange(1000)
    hosts = [f"{h}.prod.example.net" for h in ("app-1", "app-2", "app-3", "worker-1", "edge-1")]
    apps = {a: rng.randrange(10, 40000) for a in ("shop-api", "billing", "scheduler", "auth", "mailer", "inventory")}
    severity = {"DEBUG": 7, "INFO": 6, "WARN": 4, "ERROR": 3}
    while True:
        t, app, seq = clock.tick(), rng.choice(list(apps)), seq + 1
        level, template = _skew(rng, APP_MESSAGES)
        sd = rng.choice(["-", "-", f'[meta sequenceId="{seq}"]',
                         f'[origin ip="{_ip(rng, PRIVATE_NETS)}" software="{app}"]',
                         f'[request@32473 id="{_uuid(rng)}" user="{_skew(rng, USERS)}"]',
                         f'[exampleSDID@32473 iut="{rng.randrange(1, 9)}" eventSource="Application" '
                         f'eventID="{rng.randrange(1000, 1100)}"]'])
        pri = rng.choice([1, 16, 17, 3]) * 8 + severity[level]     # facility * 8 + severity
        msgid = rng.choice(["-", "-", "REQ", "AUDIT", "JOB", "HEALTH"])
        yield (f"<{pri}>1 {_iso(t, 'microseconds')} {_skew(rng, hosts)} {app} {apps[app]} {msgid} {sd} "
               f"{_sub(rng, template)}\n")


SQL = [
    "SELECT * FROM users WHERE id = {id}",
    "SELECT id, email, created_at FROM users WHERE email = '{user}@example.com'",
    "UPDATE orders SET status = 'shipped', updated_at = now() WHERE id = {id}",
    "DELETE FROM sessions WHERE expires_at < now()",
    "INSERT INTO events (type, payload, created_at) VALUES ('{w}.{w2}', '{{\"id\": {id}}}', now())",
    "SELECT o.id, o.total, c.name FROM orders o JOIN customers c ON c.id = o.customer_id "
    "WHERE o.created_at > now() - interval '{a} days' ORDER BY o.created_at DESC LIMIT 50",
    "SELECT count(*) FROM order_items WHERE order_id = {id}",
    "UPDATE products SET stock = stock - {a} WHERE id = {id} AND stock >= {a}",
    "INSERT INTO audit_log (user_id, action, ip) VALUES ({id}, '{w}', '{ip}')",
    "SELECT p.* FROM products p WHERE p.category_id = {n} AND p.active ORDER BY p.price LIMIT 20 OFFSET {n}0",
    "UPDATE payments SET state = 'captured' WHERE external_id = 'pi_{hex}{hex2}'",
]


@_format("json-lines")
def json_lines(rng):
    """Structured application log, one JSON object a line, with nested http/db/job/auth/error fields."""
    clock, clients = _Clock(rng, 400), _pool(rng, 200)
    services = {"shop-api": "api.handlers", "billing": "billing.payments", "worker": "worker.jobs",
                "auth": "auth.login"}
    while True:
        t, svc = clock.tick(), rng.choice(list(services))
        kind = rng.choices(["http", "db", "job", "auth", "error", "cache", "text"], [40, 12, 10, 8, 4, 8, 18])[0]
        rec = {"ts": _iso(t), "level": "info", "service": svc, "logger": f"{services[svc]}.{rng.choice(WORDS)}",
               "msg": "", "trace_id": _hex(rng, 32), "span_id": _hex(rng, 16)}
        if kind == "http":
            status, (method, path) = _pick(rng, STATUSES), _request(rng)
            rec.update(level="info" if status < 500 else "error", msg="request completed",
                       http={"method": method, "path": path, "status": status, "duration_ms": _ms(rng),
                             "bytes": _ms(rng, 40000), "client_ip": _skew(rng, clients),
                             "user_agent": _skew(rng, USER_AGENTS)})
        elif kind == "db":
            rec.update(level=rng.choice(["debug", "warn"]), msg="query executed",
                       db={"system": "postgresql", "statement": _sub(rng, rng.choice(SQL)),
                           "rows": rng.randrange(0, 500), "duration_ms": _ms(rng, 3000)})
        elif kind == "job":
            rec.update(msg=rng.choice(["job started", "job finished", "job retried"]),
                       job={"name": f"{rng.choice(WORDS)}_{rng.choice(WORDS)}", "id": _uuid(rng),
                            "queue": rng.choice(["default", "mail", "reports"]), "attempt": _skew(rng, [1, 2, 3, 4, 5]),
                            "duration_ms": _ms(rng, 20000)})
        elif kind == "auth":
            ok, reasons = rng.random() < 0.7, ["invalid_password", "mfa_required", "account_locked"]
            rec.update(level="info" if ok else "warn", msg="login succeeded" if ok else "login failed",
                       auth={"user": _skew(rng, USERS), "method": rng.choice(["password", "oauth", "sso"]),
                             "mfa": rng.random() < 0.5,
                             "reason": None if ok else rng.choice(reasons)},
                       client_ip=_skew(rng, clients))
        elif kind == "error":
            message = rng.choice(["timed out after {ms} ms", "invalid literal for int(): '{w}'", "'{field}'",
                                  "connect to {svc}:{svcport} refused"])
            rec.update(level="error", msg="unhandled exception", error={
                "type": rng.choice(["TimeoutError", "ValueError", "KeyError", "ConnectionRefusedError"]),
                "message": _sub(rng, message),
                "stack": f'File "/app/{svc}/{rng.choice(WORDS)}.py", line {rng.randrange(10, 400)}'})
        elif kind == "cache":
            rec.update(level="debug", msg=rng.choice(["cache hit", "cache miss"]),
                       cache={"key": f"{rng.choice(WORDS)}:{rng.randrange(1, 99999)}",
                              "ttl_s": rng.choice([60, 300, 3600])})
        else:
            level, template = _skew(rng, APP_MESSAGES)
            rec.update(level=level.lower(), msg=_sub(rng, template))
        yield json.dumps(rec) + "\n"


HEROKU_ERRORS = [("H12", "Request timeout"), ("H13", "Connection closed without response"), ("H10", "App crashed"),
                 ("H27", "Client Request Interrupted"), ("H18", "Server Request Interrupted")]


@_format("logfmt")
def logfmt(rng):
    """key=value lines: a PaaS router, a Go service's logger and a time-series database's compactor."""
    clock, clients = _Clock(rng, 500), _pool(rng, 150)
    while True:
        t, r = clock.tick(), rng.random()
        if r < 0.45:
            status, head, (method, path) = _pick(rng, STATUSES), "at=info", _request(rng)
            service = _ms(rng, 2000)
            if rng.random() < 0.02:
                code, desc = rng.choice(HEROKU_ERRORS)
                status, service, head = 503, 30000, f'at=error code={code} desc="{desc}"'
            yield (f'{_iso(t, "microseconds")} heroku[router]: {head} method={method} path="{path}" '
                   f'host=shop-example.herokuapp.com request_id={_uuid(rng)} fwd="{_skew(rng, clients)}" '
                   f'dyno=web.{rng.randrange(1, 5)} connect={rng.randrange(0, 3)}ms service={service}ms '
                   f'status={status} bytes={_ms(rng, 30000)} protocol=https\n')
        elif r < 0.85:
            level, template = _skew(rng, APP_MESSAGES)
            extra = rng.choice(["", f" user={_skew(rng, USERS)}", f" request_id={_hex(rng, 16)}",
                                f" duration={_ms(rng)}ms", f" component={rng.choice(SERVICES)}",
                                f' attempt={rng.randrange(1, 5)} err="context deadline exceeded"'])
            caller = f"{rng.choice(WORDS)}/{rng.choice(WORDS)}.go:{rng.randrange(20, 600)}"
            yield f'time="{_iso(t)}" level={level.lower()} caller={caller} msg="{_sub(rng, template)}"{extra}\n'
        else:
            mint = (t - datetime(1970, 1, 1)) // timedelta(milliseconds=1) - 7200000
            head = f"ts={_iso(t)} caller="
            yield rng.choice([
                f'{head}compact.go:{rng.randrange(500, 700)} level=info component=tsdb msg="write block" mint={mint} '
                f'maxt={mint + 7200000} ulid=01H{_hex(rng, 23).upper()} duration={_ms(rng, 3000)}ms\n',
                f'{head}head.go:{rng.randrange(1000, 1400)} level=info component=tsdb msg="Head GC completed" '
                f'caller=truncateMemory duration={_ms(rng, 900)}.{rng.randrange(1000)}ms\n',
                f'{head}checkpoint.go:100 level=info component=tsdb msg="Creating checkpoint" '
                f'from_segment={rng.randrange(100, 999)} to_segment={rng.randrange(1000, 1200)} mint={mint}\n',
                f'{head}scrape.go:{rng.randrange(1200, 1700)} level=warn component="scrape manager" '
                f'scrape_pool={rng.choice(SERVICES)} target=http://{_ip(rng, PRIVATE_NETS)}:9100/metrics '
                f'msg="Append failed" err="out of bounds"\n'])


JAVA_APP = ["com.example.shop.order.OrderService.placeOrder", "com.example.shop.order.OrderController.create",
            "com.example.shop.payment.PaymentClient.capture", "com.example.shop.inventory.StockRepository.reserve",
            "com.example.shop.user.UserService.findById", "com.example.shop.common.RetryTemplate.execute",
            "com.example.shop.events.KafkaPublisher.send", "com.example.shop.order.OrderMapper.toDto"]
JAVA_LIB = [  # innermost first; a trace ends with some tail of this list
    "org.springframework.transaction.interceptor.TransactionInterceptor.invoke",
    "org.springframework.aop.framework.ReflectiveMethodInvocation.proceed",
    "com.zaxxer.hikari.pool.HikariPool.getConnection", "org.hibernate.engine.jdbc.spi.SqlExceptionHelper.convert",
    "org.springframework.web.servlet.DispatcherServlet.doDispatch",
    "org.springframework.web.servlet.FrameworkServlet.service",
    "org.apache.catalina.core.ApplicationFilterChain.doFilter",
    "org.apache.tomcat.util.net.NioEndpoint$SocketProcessor.doRun",
    "java.base/java.util.concurrent.ThreadPoolExecutor.runWorker", "java.base/java.lang.Thread.run",
]
JAVA_EXCEPTIONS = [
    ("java.lang.NullPointerException", 'Cannot invoke "com.example.shop.{W}.getId()" because "{w}" is null'),
    ("java.lang.IllegalStateException", "Order {id} is already {state}"),
    ("java.net.SocketTimeoutException", "Read timed out"),
    ("org.springframework.dao.DataIntegrityViolationException",
     "could not execute statement; SQL [n/a]; constraint [{table}_pkey]"),
    ("java.sql.SQLTransientConnectionException",
     "HikariPool-1 - Connection is not available, request timed out after 30000ms."),
    ("org.apache.kafka.common.errors.TimeoutException", "Topic {w}-events not present in metadata after 60000 ms."),
    ("java.lang.IllegalArgumentException", "Invalid UUID string: {w}-{n}"),
    ("java.io.IOException", "Broken pipe"),
]
LOG4J_MESSAGES = [  # (level, logger, template): the framework's own lines
    ("INFO", "o.s.web.servlet.DispatcherServlet", "Completed initialization in {a} ms"),
    ("INFO", "com.zaxxer.hikari.HikariDataSource", "HikariPool-1 - Start completed."),
    ("WARN", "com.zaxxer.hikari.pool.HikariPool",
     "HikariPool-1 - Thread starvation or clock leap detected (housekeeper delta={a}m{n}s)."),
    ("INFO", "o.a.k.c.c.internals.ConsumerCoordinator",
     "[Consumer clientId=consumer-{w}-{a}, groupId={w}-group] Setting offset for partition {w2}-events-{a} to the "
     "committed offset FetchPosition{{offset={big}, offsetEpoch=Optional.empty}}"),
    ("DEBUG", "org.hibernate.SQL", "{sql}"),
    ("INFO", "com.example.shop.ShopApplication", "Started ShopApplication in {a}.{n} seconds"),
]


@_format("log4j")
def log4j(rng):
    """A Spring Boot service's log4j/logback output, with an occasional exception and its multi-line stack trace."""
    clock, lines = _Clock(rng, 300), {}
    threads = ["main", "scheduling-1", "kafka-producer-network-thread | producer-1", "HikariPool-1 housekeeper"]
    threads += [f"http-nio-8080-exec-{i}" for i in range(1, 11)]
    threads += [f"pool-{i}-thread-{j}" for i in (2, 3) for j in (1, 2, 3)]
    loggers = [c.rsplit(".", 1)[0] for c in JAVA_APP] + ["com.example.shop.web.RequestLoggingFilter"]

    def frame(method):      # a frame keeps its line number through the file, as a real build's would
        source = method.rsplit(".", 2)[-2].split("$")[0].split("/")[-1]
        return f"\tat {method}({source}.java:{lines.setdefault(method, rng.randrange(20, 900))})\n"

    def trace():
        exc, msg = rng.choice(JAVA_EXCEPTIONS)
        msg = _sub(rng, msg, W=rng.choice(["Order", "Customer", "Cart"]), state=rng.choice(["paid", "cancelled"]))
        out = f"{exc}: {msg}\n"
        out += "".join(frame(m) for m in rng.sample(JAVA_APP, rng.randrange(2, 5)) + JAVA_LIB[rng.randrange(0, 6):])
        if rng.random() < 0.4:
            exc, msg = rng.choice(JAVA_EXCEPTIONS)
            out += f"Caused by: {exc}: {_sub(rng, msg, W='Payment', state='shipped')}\n"
            out += "".join(frame(m) for m in rng.sample(JAVA_LIB[:4], 2)) + f"\t... {rng.randrange(20, 90)} more\n"
        return out

    while True:
        t, thread = clock.tick(), _skew(rng, threads)
        if rng.random() < 0.25:
            level, logger, template = rng.choice(LOG4J_MESSAGES)
        else:
            (level, template), logger = _skew(rng, APP_MESSAGES), rng.choice(loggers)
        msg = _sub(rng, template, sql=_sub(rng, rng.choice(SQL)))
        line = f"{_ymd(t)},{_millis(t)} {level:<5} [{thread}] {logger} - {msg}\n"
        yield line + (trace() if level == "ERROR" and rng.random() < 0.5 else "")


SITE = "/usr/local/lib/python3.11/site-packages"
PY_ENTRY = [  # (file, function, line of code): where a traceback starts
    (f"{SITE}/django/core/handlers/exception.py", "inner", "response = get_response(request)"),
    (f"{SITE}/django/core/handlers/base.py", "_get_response",
     "response = wrapped_callback(request, *callback_args, **callback_kwargs)"),
    (f"{SITE}/celery/app/trace.py", "trace_task", "R = retval = fun(*args, **kwargs)"),
]
PY_APP = [
    ("/app/shop/api/views.py", "create_order", "order = services.place_order(request.user, payload)"),
    ("/app/shop/services.py", "place_order", "payment = gateway.charge(order.total, customer.token)"),
    ("/app/shop/payments/gateway.py", "charge", "resp = self.session.post(url, json=body, timeout=self.timeout)"),
    ("/app/shop/worker/tasks.py", "sync_inventory", "for item in client.fetch_items(since=last_run):"),
    ("/app/shop/models.py", "total", "return sum(line.price * line.qty for line in self.lines)"),
    ("/app/shop/utils/cache.py", "get_or_set", "value = loader(key)"),
]
PY_TAIL = [  # where it ends, in a library
    (f"{SITE}/requests/adapters.py", "send", "raise ReadTimeout(e, request=request)"),
    (f"{SITE}/sqlalchemy/engine/base.py", "_execute_context", "self.dialect.do_execute("),
    ("/usr/local/lib/python3.11/json/decoder.py", "raw_decode",
     'raise JSONDecodeError("Expecting value", s, err.value) from None'),
]
PY_ERRORS = [
    "KeyError: '{field}'", "ValueError: invalid literal for int() with base 10: '{w}'",
    "ZeroDivisionError: division by zero", "AttributeError: 'NoneType' object has no attribute '{w}'",
    "requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='api.{w}.example.com', port=443): Read timed out. "
    "(read timeout=10)",
    "json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)",
    "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) server closed the connection unexpectedly",
    "TypeError: unsupported operand type(s) for +: 'int' and 'NoneType'",
    "redis.exceptions.ConnectionError: Error 111 connecting to redis:6379. Connection refused.",
]
PY_MESSAGES = [  # (level, logger, template): what the libraries say
    ("DEBUG", "urllib3.connectionpool", "Starting new HTTPS connection (1): api.{w}.example.com:443"),
    ("DEBUG", "urllib3.connectionpool", 'https://api.{w}.example.com:443 "GET /v1/{w2}/{id} HTTP/1.1" {status} {big}'),
    ("INFO", "celery.worker.strategy", "Task shop.tasks.{w}_{w2}[{uuid}] received"),
    ("INFO", "celery.app.trace", "Task shop.tasks.{w}_{w2}[{uuid}] succeeded in {a}.{n}s: None"),
    ("INFO", "uvicorn.access", '{lan}:{port} - "{method} {path} HTTP/1.1" {status}'),
    ("INFO", "sqlalchemy.engine.Engine", "BEGIN (implicit)"), ("INFO", "sqlalchemy.engine.Engine", "COMMIT"),
    ("WARNING", "urllib3.connectionpool",
     "Retrying (Retry(total={a}, connect=None, read=None, redirect=None, status=None)) after connection broken by "
     "'ReadTimeoutError(\"HTTPSConnectionPool(host='api.{w}.example.com', port=443): Read timed out.\")': /v1/{w2}"),
    ("INFO", "botocore.credentials", "Found credentials from IAM Role: shop-{w}-role"),
]


@_format("python-logging")
def python_logging(rng):
    """Python logging's "%(asctime)s %(levelname)-8s %(name)s: %(message)s", with an occasional traceback."""
    clock, lines = _Clock(rng, 500), {}
    names = ["shop.api", "shop.worker", "shop.payments", "shop.inventory", "shop.mail"]

    def traceback():
        frames = [rng.choice(PY_ENTRY), *rng.sample(PY_APP, rng.randrange(1, 4))]
        frames += rng.sample(PY_TAIL, rng.randrange(2))
        out = "Traceback (most recent call last):\n"
        for file, func, code in frames:     # a function keeps its line number through the file
            out += f'  File "{file}", line {lines.setdefault(func, rng.randrange(10, 700))}, in {func}\n    {code}\n'
        return out + _sub(rng, rng.choice(PY_ERRORS)) + "\n"

    while True:
        t = clock.tick()
        if rng.random() < 0.3:
            level, name, template = rng.choice(PY_MESSAGES)
        else:
            (level, template), name = _skew(rng, APP_MESSAGES), rng.choice(names)
            level = "WARNING" if level == "WARN" else level
        line = f"{_ymd(t)},{_millis(t)} {level:<8} {name}: {_sub(rng, template)}\n"
        yield line + (traceback() if level == "ERROR" and rng.random() < 0.5 else "")


DEB_PACKAGES = (
    "libc6 libc-bin libssl3 openssl openssh-client openssh-server openssh-sftp-server curl libcurl4 tzdata "
    "ca-certificates python3.11 python3.11-minimal libpython3.11-stdlib systemd libsystemd0 udev libudev1 "
    "linux-firmware libglib2.0-0 vim vim-common vim-runtime git git-man nginx nginx-common libnginx-mod-http-geoip2 "
    "postgresql-15 postgresql-client-15 libpq5 docker-ce docker-ce-cli containerd.io snapd man-db libxml2 "
    "libsqlite3-0 sudo rsync bash coreutils gnupg gpgv libgnutls30 libkrb5-3 krb5-locales distro-info-data "
    "python3-pkg-resources python3-urllib3 apt libapt-pkg6.0 login passwd libpam-modules zlib1g xz-utils dbus ufw"
).split()
ARCH_ALL = {"tzdata", "ca-certificates", "git-man", "vim-runtime", "nginx-common", "krb5-locales", "distro-info-data",
            "python3-pkg-resources", "python3-urllib3", "linux-firmware"}


def _deb_version(rng: random.Random) -> str:
    """A Debian/Ubuntu version string in one of the common shapes."""
    r = rng.randrange
    return rng.choice([f"{r(1, 9)}.{r(0, 40)}.{r(0, 12)}-{r(1, 6)}ubuntu{r(1, 4)}",
                       f"{r(1, 9)}.{r(0, 20)}-{r(1, 9)}+deb12u{r(1, 5)}",
                       f"1:{r(7, 10)}.{r(0, 9)}p1-{r(1, 4)}ubuntu0.{r(1, 9)}",
                       f"{r(1, 3)}.{r(0, 99)}+dfsg-{r(1, 4)}build{r(1, 3)}"])


@_format("dpkg")
def dpkg(rng):
    """/var/log/dpkg.log: apt runs that unpack, configure and trigger packages whose versions only go up."""
    clock, out = _Clock(rng, 200), []
    version = {p: _deb_version(rng) for p in DEB_PACKAGES}
    installed = set(rng.sample(DEB_PACKAGES, 40))

    def pkg(p):
        return f"{p}:{'all' if p in ARCH_ALL else 'amd64'}"

    def log(text):
        out.append(f"{_ymd(clock.tick(180))} {text}\n")

    while True:
        clock.tick(40_000_000)      # hours between apt runs
        out.clear()
        log("startup archives unpack")
        changes = rng.sample(DEB_PACKAGES, rng.randrange(1, 9))
        for p in changes:
            old = version[p] if p in installed else "<none>"
            new = version[p] = re.sub(r"(\d+)$", lambda m: str(int(m[1]) + 1), version[p])    # a point release
            if old == "<none>":
                log(f"install {pkg(p)} <none> {new}")
                log(f"status half-installed {pkg(p)} {new}")
            else:
                log(f"upgrade {pkg(p)} {old} {new}")
                for state in ("half-configured", "unpacked", "half-installed"):
                    log(f"status {state} {pkg(p)} {old}")
            log(f"status unpacked {pkg(p)} {new}")
            installed.add(p)
        log("startup packages configure")
        for p in changes:
            log(f"configure {pkg(p)} {version[p]} <none>")
            for state in ("unpacked", "half-configured", "installed"):
                log(f"status {state} {pkg(p)} {version[p]}")
        for p in rng.sample(["man-db", "libc-bin", "systemd", "dbus", "ufw"], rng.randrange(1, 3)):
            log(f"trigproc {pkg(p)} {version[p]} <none>")
            for state in ("half-configured", "installed"):
                log(f"status {state} {pkg(p)} {version[p]}")
        yield "".join(out)


DMESG_BOOT = [
    "BIOS-e820: [mem 0x00000000{h8}-0x00000000{h8b}] {mem}",
    "ACPI: {acpi} 0x00000000{h8} 0000{h4} (v0{a} LENOVO TP-N{h3})",
    "pci 0000:0{a}:{n:02x}.{h}: [8086:{h4}] type 00 class 0x0{h5}", "smpboot: CPU{a} is up",
    "pci 0000:0{a}:{n:02x}.{h}: reg 0x10: [mem 0x{h8}-0x{h8b} 64bit]",
    "PM: hibernation: Registered nosave memory: [mem 0x{h8}-0x{h8b}]",
    "clocksource: tsc: mask: 0xffffffffffffffff max_cycles: 0x{h12}, max_idle_ns: 440795{n}{id} ns",
    "input: {input} as /devices/platform/i8042/serio{a}/input/input{n}", "systemd[1]: Started {unit}.",
    "systemd[1]: Mounting {unit}...", "random: crng init done", "zswap: loaded using pool lzo/zbud",
    "iwlwifi 0000:00:14.3: loaded firmware version {n}.{h8}.0 so-a0-gf-a0-{n}.ucode op_mode iwlmvm",
    "nvme nvme0: pci function 0000:0{a}:00.0", " nvme0n1: p1 p2 p3",
    "EXT4-fs (nvme0n1p2): re-mounted {uuid}. Quota mode: none.",
    'audit: type=1400 audit(17{big}.{n}1:{a}): apparmor="STATUS" operation="profile_load" profile="unconfined" '
    'name="{proc}" pid={pid} comm="apparmor_parser"',
    "thermal LNXTHERM:0{a}: registered as thermal_zone{a}", "Freeing unused kernel image (initmem) memory: {n}{a}4K",
    "Write protecting the kernel read-only data: {n}{a}00k",
]
DMESG_FILL = {
    "mem": ["usable", "reserved", "ACPI data", "ACPI NVS"], "acpi": ["FACP", "DSDT", "SSDT", "APIC", "HPET", "MCFG"],
    "input": ["AT Translated Set 2 keyboard", "TPPS/2 Elan TrackPoint", "Power Button", "Video Bus", "Sleep Button"],
    "unit": ["Journal Service", "Load Kernel Modules", "Remount Root and Kernel File Systems",
             "Kernel Debug File System", "Huge Pages File System", "Create Static Device Nodes in /dev"],
}


@_format("dmesg")
def dmesg(rng):
    """dmesg output: the kernel's banner, a dense boot, then a machine's life at growing intervals."""
    up, count, kernel = _Uptime(rng), 0, f"6.5.0-{rng.randrange(14, 45)}-generic"
    yield (f"[    0.000000] Linux version {kernel} (buildd@lcy02-amd64-0{rng.randrange(10, 99)}) "
           f"(x86_64-linux-gnu-gcc-12 (Ubuntu 12.3.0-1ubuntu1~22.04) 12.3.0, GNU ld (GNU Binutils for Ubuntu) 2.38) "
           f"#{rng.randrange(14, 60)}~22.04.1-Ubuntu SMP\n")
    yield f"[    0.000000] Command line: BOOT_IMAGE=/vmlinuz-{kernel} root=UUID={_uuid(rng)} ro quiet splash\n"
    while True:
        count += 1
        booting = count < 250
        msg = rng.choice(DMESG_BOOT if booting else KERNEL_MESSAGES)
        step = 4000 if booting else 1000 * count * count     # the longer it runs, the quieter it gets
        yield f"{up.tick(step)} {_sub(rng, msg, **{k: rng.choice(v) for k, v in DMESG_FILL.items()})}\n"


@_format("postgresql")
def postgresql(rng):
    """PostgreSQL server log, log_line_prefix '%m [%p] %q%u@%d ': statements, errors with DETAIL, checkpoints."""
    clock, clients, checkpointer = _Clock(rng, 2000), _pool(rng, 12, PRIVATE_NETS), rng.randrange(20, 90)
    pids, user_of = [rng.randrange(100, 30000) for _ in range(20)], {}     # a backend pid serves one user@database
    while True:
        t, pid = clock.tick(), _skew(rng, pids)
        who = user_of.setdefault(pid, rng.choice(["shop@shop", "shop@shop", "billing@billing", "readonly@shop"]))
        user, db = who.split("@")
        stamp = f"{_ymd(t)}.{_millis(t)} UTC"
        head, sql, r = f"{stamp} [{pid}] {who}", _sub(rng, rng.choice(SQL)), rng.random()
        if r < 0.45:
            yield f"{head} LOG:  duration: {_ms(rng, 5000)}.{rng.randrange(1000):03d} ms  statement: {sql}\n"
        elif r < 0.60:
            ip, port = rng.choice(clients), rng.randrange(32768, 61000)
            connected_for = f"0:{rng.randrange(60):02d}:{rng.randrange(60):02d}.{rng.randrange(1000):03d}"
            yield rng.choice([
                f"{stamp} [{pid}] [unknown]@[unknown] LOG:  connection received: host={ip} port={port}\n",
                f"{head} LOG:  connection authorized: user={user} database={db} application_name=psql\n",
                f"{head} LOG:  disconnection: session time: {connected_for} user={user} database={db} host={ip} "
                f"port={port}\n"])
        elif r < 0.75:
            table = rng.choice(TABLES)
            yield rng.choice([
                f'{head} ERROR:  duplicate key value violates unique constraint "{table}_pkey"\n'
                f"{head} DETAIL:  Key (id)=({rng.randrange(1, 99999)}) already exists.\n{head} STATEMENT:  {sql}\n",
                f'{head} ERROR:  relation "{rng.choice(WORDS)}s" does not exist at character {rng.randrange(15, 60)}\n'
                f"{head} STATEMENT:  {sql}\n",
                f"{head} ERROR:  canceling statement due to statement timeout\n{head} STATEMENT:  {sql}\n",
                f"{head} ERROR:  deadlock detected\n{head} DETAIL:  Process {pid} waits for ShareLock on transaction "
                f"{rng.randrange(10**6, 10**7)}; blocked by process {rng.choice(pids)}.\n"
                f"{head} HINT:  See server log for query details.\n{head} CONTEXT:  while updating tuple "
                f'({rng.randrange(1, 9000)},{rng.randrange(1, 60)}) in relation "{table}"\n{head} STATEMENT:  {sql}\n',
                f'{head} FATAL:  password authentication failed for user "{user}"\n{head} DETAIL:  Connection matched '
                f'pg_hba.conf line {rng.randrange(90, 130)}: "host all all 0.0.0.0/0 scram-sha-256"\n',
                f"{head} WARNING:  there is no transaction in progress\n",
                f"{head} LOG:  could not receive data from client: Connection reset by peer\n"])
        else:
            w, table, worker = rng.randrange(50, 9000), rng.choice(TABLES), rng.randrange(30000, 60000)
            yield rng.choice([
                f"{stamp} [{checkpointer}] LOG:  checkpoint starting: time\n",
                f"{stamp} [{checkpointer}] LOG:  checkpoint complete: wrote {w} buffers ({w / 163.84:.1f}%); "
                f"0 WAL file(s) added, 0 removed, {rng.randrange(0, 4)} recycled; "
                f"write={w // 20}.{rng.randrange(1000):03d} s, sync=0.{rng.randrange(1000):03d} s, "
                f"total={w // 20 + 1}.{rng.randrange(1000):03d} s; sync files={rng.randrange(5, 80)}, "
                f"longest=0.0{rng.randrange(100):02d} s, average=0.00{rng.randrange(10)} s; "
                f"distance={w * 8} kB, estimate={w * 9} kB\n",
                f'{stamp} [{worker}] LOG:  automatic vacuum of table "{db}.public.{table}": index scans: '
                f"{rng.randrange(0, 2)}\n\tpages: 0 removed, {w} remain, {w // 7} scanned "
                f"({100 * (w // 7) / w:.2f}% of total)\n\ttuples: {rng.randrange(0, 5000)} removed, {w * 31} remain, "
                f"0 are dead but not yet removable\n",
                f'{stamp} [{worker}] LOG:  automatic analyze of table "{db}.public.{table}"\n'])


@_format("haproxy")
def haproxy(rng):
    """HAProxy HTTP log format via syslog, with the occasional server health-check state change."""
    clock, clients, pid = _Clock(rng, 300), _pool(rng, 300), rng.randrange(1000, 9000)
    host = rng.choice(["lb1", "lb-edge-2", "haproxy-0"])
    servers = {"be_app": [f"app{i}" for i in range(1, 7)], "be_static": ["static1", "static2"],
               "be_api": [f"api-{i}" for i in range(1, 5)]}
    while True:
        t = clock.tick()
        status, flags, (method, path) = _pick(rng, STATUSES), "----", _request(rng)
        be = ("be_static" if path.startswith(STATIC_PREFIXES) else
              "be_api" if path.startswith(("/api", "/graphql")) else "be_app")     # routed on the path, as real ACLs do
        srv = rng.choice(servers[be])
        if rng.random() < 0.004:
            state = rng.choice([f"DOWN, reason: Layer4 timeout, check duration: 200{rng.randrange(10)}ms",
                                'DOWN, reason: Layer7 wrong status, code: 503, info: "Service Unavailable", '
                                f"check duration: {rng.randrange(1, 40)}ms",
                                f"UP, reason: Layer7 check passed, code: 200, check duration: {rng.randrange(1, 9)}ms"])
            yield (f"{_bsd(t)} {host} haproxy[{pid}]: Server {be}/{srv} is {state}. {rng.randrange(1, 6)} active and "
                   f"0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.\n")
            continue
        tq, tc, tr, size = rng.choice([0, 0, 0, 1, 2]), rng.randrange(0, 3), _ms(rng, 1500), _ms(rng, 50000) + 200
        ta = tq + tc + tr + rng.randrange(0, 5)
        if status == 503 and rng.random() < 0.6:     # no server up: nothing was connected or waited for
            srv, flags, tc, tr, size = "<NOSRV>", "SC--", -1, -1, 217     # haproxy's own short error page
        elif status == 504:                           # the server took longer than 'timeout server'
            flags, tr, ta = "sH--", -1, 30000 + tq + tc
        elif rng.random() < 0.01:
            flags = rng.choice(["CD--", "cD--", "CH--"])
        act = rng.randrange(50, 900)
        stamp = _clf(t, f".{_millis(t)}")
        yield (f"{_bsd(t)} {host} haproxy[{pid}]: {_skew(rng, clients)}:{rng.randrange(1024, 65535)} [{stamp}] "
               f"fe_https~ {be}/{srv} {tq}/0/{tc}/{tr}/{ta} {status} {size} - - {flags} "
               f'{act}/{act - 3}/{rng.randrange(1, 60)}/{rng.randrange(0, 20)}/0 0/0 "{method} {path} HTTP/1.1"\n')


_SECURITY = ("Security", "Microsoft-Windows-Security-Auditing")
WIN_EVENTS = [  # (weight, id, level, (channel, provider), category, message)
    (30, 4624, "Information", _SECURITY, "Logon",
     "An account was successfully logged on. Logon Type: {lt}  Account Name: {user}  Source Network Address: {ip}"),
    (12, 4625, "Information", _SECURITY, "Logon",
     "An account failed to log on. Logon Type: 3  Account Name: {bad}  Failure Reason: Unknown user name or bad "
     "password.  Source Network Address: {ip}"),
    (20, 4634, "Information", _SECURITY, "Logoff", "An account was logged off. Account Name: {user}  Logon Type: {lt}"),
    (8, 4672, "Information", _SECURITY, "Special Logon",
     "Special privileges assigned to new logon. Account Name: {user}  Privileges: SeBackupPrivilege SeDebugPrivilege"),
    (10, 4688, "Information", _SECURITY, "Process Creation",
     "A new process has been created. New Process Name: C:\\{exe}  Creator Process Name: C:\\Windows\\explorer.exe  "
     "Process ID: 0x{h4}"),
    (3, 4740, "Information", _SECURITY, "User Account Management",
     "A user account was locked out. Account Name: {user}"),
    (8, 7036, "Information", ("System", "Service Control Manager"), "None",
     "The {service} service entered the {state} state."),
    (2, 7031, "Error", ("System", "Service Control Manager"), "None",
     "The {service} service terminated unexpectedly.  It has done this {a} time(s).  The following corrective action "
     "will be taken in 60000 milliseconds: Restart the service."),
    (3, 1000, "Error", ("Application", "Application Error"), "(100)",
     "Faulting application name: {exe_name}, version: {a}.{n}.0.0, faulting module name: ntdll.dll, exception code: "
     "0xc0000005, fault offset: 0x000{h5}"),
    (3, 10016, "Warning", ("System", "Microsoft-Windows-DistributedCOM"), "None",
     "The application-specific permission settings do not grant Local Activation permission for the COM Server "
     "application with CLSID {{{uuid}}}"),
    (2, 1014, "Warning", ("System", "Microsoft-Windows-DNS-Client"), "(1014)",
     "Name resolution for the name {w}.corp.example.com timed out after none of the configured DNS servers responded."),
    (2, 6005, "Information", ("System", "EventLog"), "None", "The Event log service was started."),
]
WIN_EXES = ["Program Files\\Google\\Chrome\\Application\\chrome.exe", "Windows\\System32\\cmd.exe",
            "Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe", "Windows\\System32\\svchost.exe",
            "Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE", "Windows\\System32\\msiexec.exe"]
WIN_SERVICES = ["Windows Update", "Print Spooler", "Background Intelligent Transfer Service",
                "Microsoft Defender Antivirus Service", "Windows Modules Installer"]


@_format("csv-events")
def csv_events(rng):
    """Windows event log exported as CSV: a header, then one row per event, quoted where needed."""
    clock, buf = _Clock(rng, 3000), io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    computers = [f"{d}-{rng.randrange(1, 300):03d}.corp.example.com"
                 for d in ("WS-FIN", "WS-ENG", "WS-HR", "SRV-DC", "SRV-FS", "WS-OPS") for _ in range(2)]
    lan = _pool(rng, 40, PRIVATE_NETS[:2])
    writer.writerow(["TimeCreated", "EventID", "Level", "Channel", "Provider", "Computer", "User", "TaskCategory",
                     "Message"])
    while True:
        t = clock.tick()
        _, eid, level, (channel, provider), category, template = rng.choices(WIN_EVENTS, [e[0] for e in WIN_EVENTS])[0]
        exe, account = rng.choice(WIN_EXES), _skew(rng, USERS)
        msg = _sub(rng, template, user=account, lt=rng.choice([2, 3, 3, 5, 10]), bad=_skew(rng, BAD_USERS),
                   ip=_skew(rng, lan), exe=exe, exe_name=exe.rsplit("\\", 1)[-1], service=rng.choice(WIN_SERVICES),
                   state=rng.choice(["running", "stopped"]))
        user = "NT AUTHORITY\\SYSTEM" if channel == "System" else f"CORP\\{account}"
        stamp = f"{t:%Y-%m-%dT%H:%M:%S}.{t.microsecond:06d}0Z"     # Windows keeps 100 ns ticks: seven digits
        writer.writerow([stamp, eid, level, channel, provider, _skew(rng, computers), user, category, msg])
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()


KLOG = [  # (severity, file:line, message); {pod} {ns} {uid} {c} belong to one pod
    ("I", "kubelet.go:2435",
     '"SyncLoop (PLEG): event for pod" pod="{ns}/{pod}" event={{ID:{uid} Type:ContainerStarted Data:{h64}}}'),
    ("I", "kubelet.go:2410", '"SyncLoop UPDATE" source="api" pods=["{ns}/{pod}"]'),
    ("I", "reconciler_common.go:258",
     '"operationExecutor.VerifyControllerAttachedVolume started for volume \\"kube-api-access-{x}\\" (UniqueName: '
     '\\"kubernetes.io/projected/{uid}-kube-api-access-{x}\\") pod \\"{pod}\\" (UID: \\"{uid}\\") " pod="{ns}/{pod}"'),
    ("I", "kuberuntime_container.go:745",
     '"Killing container with a grace period" pod="{ns}/{pod}" podUID={uid} containerName="{c}" '
     'containerID="containerd://{h64}" gracePeriod=30'),
    ("E", "pod_workers.go:1300",
     '"Error syncing pod, skipping" err="failed to \\"StartContainer\\" for \\"{c}\\" with CrashLoopBackOff: '
     '\\"back-off 5m0s restarting failed container={c} pod={pod}_{ns}({uid})\\"" pod="{ns}/{pod}" podUID={uid}'),
    ("I", "prober.go:107",
     '"Probe failed" probeType="Readiness" pod="{ns}/{pod}" podUID={uid} containerName="{c}" probeResult="failure" '
     'output="Get \\"http://10.244.{a}.{n}:8080/healthz\\": dial tcp 10.244.{a}.{n}:8080: connect: '
     'connection refused"'),
    ("I", "scope.go:117", '"RemoveContainer" containerID="{h64}"'),
    ("E", "remote_runtime.go:432",
     '"ContainerStatus from runtime service failed" err="rpc error: code = NotFound desc = an error occurred when try '
     'to find container \\"{h64}\\": not found" containerID="{h64}"'),
    ("W", "reflector.go:424",
     'k8s.io/client-go/informers/factory.go:150: failed to list *v1.Service: Get "https://10.96.0.1:443/api/v1/'
     'services?limit=500&resourceVersion=0": dial tcp 10.96.0.1:443: connect: connection refused'),
    ("I", "image_gc_manager.go:315",
     '"Disk usage on image filesystem is over the high threshold, trying to free bytes down to the low threshold" '
     'usage={pct} highThreshold=85 amountToFree={big}{n} lowThreshold=80'),
    ("I", "eviction_manager.go:366", '"Eviction manager: attempting to reclaim" resourceName="ephemeral-storage"'),
    ("I", "log.go:194", "http: TLS handshake error from 10.244.{a}.{n}:{port}: EOF"),
    ("I", "kubelet_pods.go:1084",
     '"Unable to retrieve pull secret, the image pull may not succeed." pod="{ns}/{pod}" secret="" '
     'err="secret \\"regcred\\" not found"'),
    ("I", "pod_startup_latency_tracker.go:102",
     '"Observed pod startup duration" pod="{ns}/{pod}" podStartSLOduration={a}.{id} podStartE2EDuration="{a}.{id}s" '
     'podCreationTimestamp="{created}"'),
]
K8S_SUFFIX = "bcdfghjklmnpqrstvwxz2456789"     # the letters Kubernetes uses for generated name suffixes


@_format("klog")
def klog(rng):
    """Kubernetes klog lines, 'I1127 23:00:00.123456    1234 file.go:123] msg', about a fixed set of pods."""
    clock, tids = _Clock(rng, 900), [rng.randrange(1000, 4000) for _ in range(3)]
    deployments = {"web": "shop", "api": "shop", "worker": "shop", "redis": "shop", "coredns": "kube-system",
                   "metrics-server": "kube-system", "ingress-nginx-controller": "ingress-nginx",
                   "node-exporter": "monitoring"}

    def suffix(k):
        return "".join(rng.choices(K8S_SUFFIX, k=k))
    pods = [(ns, f"{d}-{suffix(10)}-{suffix(5)}", _uuid(rng), d)
            for d, ns in deployments.items() for _ in range(rng.randrange(1, 4))]
    while True:
        t = clock.tick()
        sev, where, template = _skew(rng, KLOG)
        ns, pod, uid, c = _skew(rng, pods)
        created = f"{t - timedelta(seconds=rng.randrange(5, 90)):%Y-%m-%d %H:%M:%S} +0000 UTC"
        msg = _sub(rng, template, ns=ns, pod=pod, uid=uid, c=c, x=suffix(5), created=created)
        yield f"{sev}{t:%m%d %H:%M:%S}.{t.microsecond:06d} {_skew(rng, tids):7d} {where}] {msg}\n"


@_format("elb-access")
def elb_access(rng):
    """AWS Application Load Balancer access log entries (space separated, quoted where a field can hold spaces)."""
    clock, clients = _Clock(rng, 300), _pool(rng, 300)
    targets = [f"10.0.{rng.randrange(1, 4)}.{rng.randrange(10, 250)}:80" for _ in range(6)]
    account, region = f"{rng.randrange(10**11, 10**12)}", rng.choice(["us-east-1", "eu-west-1", "us-east-2"])
    lb = f"app/shop-prod-alb/{_hex(rng, 16)}"
    group_arn = f"arn:aws:elasticloadbalancing:{region}:{account}:targetgroup/shop-web/{_hex(rng, 16)}"
    cert = f"arn:aws:acm:{region}:{account}:certificate/{_uuid(rng)}"
    cipher = "ECDHE-RSA-AES128-GCM-SHA256"
    while True:
        t, kind = clock.tick(), rng.choices(["https", "h2", "http"], [6, 3, 1])[0]
        (method, path), status, target = _request(rng), _pick(rng, STATUSES), rng.choice(targets)
        times, tstatus, sent = f"0.000 {_ms(rng, 2000) / 1000:.3f} 0.000", str(status), _ms(rng, 60000) + 150
        action, redirect, group = "forward", "-", group_arn
        if kind == "http":      # plain http is only ever redirected to https: no target, no timings
            status, tstatus, target, group, action, times, sent = 301, "-", "-", "-", "redirect", "-1 -1 -1", 130
            redirect = f"https://shop.example.com:443{path}"
        elif status in (502, 503, 504):     # the balancer's own answer: the target failed, timed out or was missing
            tstatus, times = "-", times if status == 502 else "0.000 -1 -1"
            target = "-" if status == 503 else target
        scheme, port, tls = ("http", 80, "- -") if kind == "http" else ("https", 443, f"{cipher} TLSv1.2")
        created = t - timedelta(microseconds=rng.randrange(1000, 400000))
        trace = f"Root=1-{(created - datetime(1970, 1, 1)) // timedelta(seconds=1):08x}-{_hex(rng, 24)}"
        request = f"{method} {scheme}://shop.example.com:{port}{path} HTTP/{'2.0' if kind == 'h2' else '1.1'}"
        yield (f'{kind} {_iso(t, "microseconds")} {lb} {_skew(rng, clients)}:{rng.randrange(1024, 65535)} {target} '
               f'{times} {status} {tstatus} {rng.randrange(60, 1200)} {sent} "{request}" "{_skew(rng, USER_AGENTS)}" '
               f'{tls} {group} "{trace}" "shop.example.com" "{cert if kind != "http" else "-"}" '
               f'{0 if action == "forward" else 1} {_iso(created, "microseconds")} "{action}" "{redirect}" "-" '
               f'"{target}" "{tstatus}" "-" "-"\n')


@_format("iptables")
def iptables(rng):
    """Kernel netfilter LOG lines as syslog holds them: mostly blocked scans of well-known ports from a few sources."""
    clock, up, host = _Clock(rng, 2500), _Uptime(rng, rng.randrange(1000, 900000)), rng.choice(["fw01", "gw", "edge"])
    scanners, ours = _pool(rng, 80), [f"203.0.113.{rng.randrange(2, 30)}" for _ in range(4)] + ["10.0.0.5", "10.0.0.7"]
    macs = [":".join(f"{rng.randrange(256):02x}" for _ in range(6)) for _ in range(3)]    # ours, then two gateways
    ports = [(22, 30), (23, 12), (80, 8), (443, 8), (3389, 10), (445, 8), (8080, 6), (5900, 3), (1433, 3), (3306, 3),
             (6379, 3), (25, 2), (53, 3), (123, 2), (0, 25)]      # 0: any port, as a sweep hits them
    prefixes = [("[UFW BLOCK] ", 60), ("[UFW AUDIT] ", 10), ("[UFW ALLOW] ", 10), ("DROP-IN: ", 15),
                ("iptables-dropped: ", 5)]
    while True:
        t, prefix = clock.tick(), _pick(rng, prefixes)
        src, dst, proto = _skew(rng, scanners), rng.choice(ours), _pick(rng, [("TCP", 80), ("UDP", 15), ("ICMP", 5)])
        length = {"TCP": rng.choice([40, 44, 52, 60]), "UDP": rng.randrange(40, 500), "ICMP": 84}[proto]
        ttl = rng.choice([47, 48, 50, 52, 54, 111, 112, 241, 244])
        head = (f"{_bsd(t)} {host} kernel: {up.tick(5_000_000)} {prefix}IN=eth0 OUT= "
                f"MAC={macs[0]}:{rng.choice(macs[1:])}:08:00 SRC={src} DST={dst} LEN={length} "
                f"TOS=0x{rng.choice(['00', '00', '08', '20'])} PREC=0x00 TTL={ttl} ID={rng.randrange(65536)}"
                f"{' DF' if rng.random() < 0.4 else ''} PROTO={proto}")
        if proto == "ICMP":
            yield f"{head} TYPE=8 CODE=0 ID={rng.randrange(65536)} SEQ={rng.randrange(1, 20)}\n"
            continue
        dpt = _pick(rng, ports) or rng.randrange(1, 65535)
        tail = (f" LEN={length - 20}" if proto == "UDP" else
                f" WINDOW={rng.choice([1024, 29200, 64240, 65535])} RES=0x00 SYN URGP=0")
        yield f"{head} SPT={rng.randrange(1024, 65535)} DPT={dpt}{tail}\n"


# ---- files ------------------------------------------------------------------------------------------------------

assert len(FORMATS) == 16, sorted(FORMATS)


def generate(out_dir: str | Path, size_per_format: int = 200_000, seed: int = 0) -> list[Path]:
    """Writes out_dir/<name>.log for every format (at least size_per_format bytes each); the paths in FORMATS order.

    Format i is seeded with seed * 1000 + i, so each file depends only on (seed, its format, the size)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, (name, produce) in enumerate(FORMATS.items()):
        path = out / f"{name}.log"
        path.write_bytes(produce(random.Random(seed * 1000 + i), size_per_format))
        paths.append(path)
    return paths


def split(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """(train, test): the formats at even indexes of FORMATS train a model, those at odd indexes test it.

    FORMATS is ordered so that related formats are neighbours (apache-access / nginx-error, syslog-bsd /
    syslog-5424, json-lines / logfmt, log4j / python-logging, ...): each test format has a relative in the train
    half, never itself."""
    return list(paths[0::2]), list(paths[1::2])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.logs",
                                description="Write the synthetic log files, one per format, and list them.")
    p.add_argument("out_dir", metavar="OUT_DIR")
    p.add_argument("--size", type=int, default=200_000, help="bytes per format, at least (default 200000)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    paths = generate(args.out_dir, args.size, args.seed)
    train, _ = split(paths)
    for path in paths:
        print(f"{path}\t{path.stat().st_size}\t{'train' if path in train else 'test'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
