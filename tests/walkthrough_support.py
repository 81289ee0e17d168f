"""A fresh Debian machine for tests/integration/test_deploy_walkthrough.py, and the shell blocks
of docs/DEPLOY.md it runs there.

The machine is a minimal Debian 12 (`debootstrap --variant=minbase`) booted with systemd by
`systemd-nspawn`, in a network namespace of its own: a veth pair with a /30, the host's end
forwarding and masquerading so that apt and pip inside reach the registries, and nothing the
machine listens on (nginx's 80/443, PostgreSQL, Redis, gunicorn) is reachable but over that
veth. `Machine.close()` removes everything it made (the container, the namespace, the veth,
the iptables rules, the root folder), also after a failure half-way.

Needs root, Debian's `debootstrap` and `systemd-container` (systemd-nspawn), `iproute2` and
`iptables`; .ci/run installs the first two.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]  # not tests.factories: this module needs no Django
SEEDS = PROJECT / "seeds"

DEPLOY_DOC = PROJECT / "docs" / "DEPLOY.md"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
SUITE = "bookworm"
TEST_NETWORK = "10.251.0.0/16"  # each machine a /30 in it, routed by the host

# What a root shell on the new machine starts with: a login's PATH and locale. DEBIAN_FRONTEND
# only keeps debconf from looking for a terminal that is not there (an operator has one).
# PIP_CERT: this machine's https goes through an egress proxy whose CA the host adds to the
# system store (copied into the machine's /usr/local/share/ca-certificates/ before
# ca-certificates is installed); pip trusts only its own bundle unless told, and an operator's
# server without such a proxy needs neither.
ROOT_SHELL_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/root",
    "LANG": "C.UTF-8",
    "DEBIAN_FRONTEND": "noninteractive",
    "PIP_CERT": "/etc/ssl/certs/ca-certificates.crt",
}


# --- docs/DEPLOY.md ------------------------------------------------------------------------


def section(heading: str, doc: Path = DEPLOY_DOC) -> str:
    """The text under the Markdown heading `heading` (e.g. "## nginx and TLS"), up to the next
    heading of the same or a higher level."""
    text = doc.read_text(encoding="utf-8")
    level = len(heading) - len(heading.lstrip("#"))
    lines = text.splitlines()
    try:
        start = lines.index(heading)
    except ValueError:
        raise AssertionError(f"{doc.name} has no heading {heading!r}") from None
    body = []
    in_code = False
    for line in lines[start + 1:]:
        if line.startswith("```"):
            in_code = not in_code
        if not in_code and re.match(rf"#{{1,{level}}} ", line):
            break
        body.append(line)
    return "\n".join(body)


def shell_blocks(heading: str) -> list[str]:
    """The ```sh blocks under `heading`, in order."""
    return re.findall(r"^```sh\n(.*?)^```$", section(heading), flags=re.DOTALL | re.MULTILINE)


def substitute(block: str, replacements: dict[str, str], *, every: bool = False) -> str:
    """`block` with each key replaced by its value; each key must occur in it exactly once (or,
    with `every`, at least once: an address used throughout), so a changed document fails here
    instead of running something else."""
    for old, new in replacements.items():
        count = block.count(old)
        assert count >= 1 if every else count == 1, f"expected {old!r} {'' if every else 'once '}in:\n{block}"
        block = block.replace(old, new)
    return block


# --- the machine ---------------------------------------------------------------------------


def missing_tools() -> list[str]:
    return [tool for tool in ("debootstrap", "systemd-nspawn", "nsenter", "ip", "iptables") if shutil.which(tool) is None]


def host_run(*args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=check)


class CommandFailed(AssertionError):
    pass


class Machine:
    """A Debian 12 machine booted in `folder`, reachable at `self.address` from the host."""

    def __init__(self, folder: Path, name: str, subnet: int) -> None:
        self.root = folder / name
        self.name = name
        self.namespace = f"{name}-ns"
        assert len(name) <= 12, "network interface names are at most 15 characters"
        self.host_link, self.guest_link = f"{name}h", f"{name}g"
        self.host_address, self.address = f"10.251.{subnet}.1", f"10.251.{subnet}.2"
        self.network = f"10.251.{subnet}.0/30"
        self.nspawn: subprocess.Popen | None = None
        self.init_pid: int | None = None
        self._rules: list[tuple[tuple[str, ...], str, tuple[str, ...]]] = []
        self.log = folder / f"{name}-nspawn.log"

    # Every iptables rule added (table, chain, match) is removed again by close().
    RULES = (
        # Masqueraded to the outside only: machines of one test reach each other (through the
        # host's routing) by their own addresses, as app servers on a private network would.
        (("-t", "nat"), "POSTROUTING", ("-s", "{network}", "!", "-d", TEST_NETWORK, "-j", "MASQUERADE")),
        ((), "FORWARD", ("-i", "{host_link}", "-j", "ACCEPT")),
        ((), "FORWARD", ("-o", "{host_link}", "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT")),
    )

    def bootstrap(self) -> None:
        host_run("debootstrap", "--variant=minbase", "--include=systemd,systemd-sysv,dbus,iproute2",
                 SUITE, str(self.root), DEBIAN_MIRROR, timeout=600)
        (self.root / "etc" / "hostname").write_text(self.name + "\n")
        shutil.copy("/etc/resolv.conf", self.root / "etc" / "resolv.conf")
        cas = self.root / "usr" / "local" / "share" / "ca-certificates"
        cas.mkdir(parents=True, exist_ok=True)
        for ca in Path("/usr/local/share/ca-certificates").glob("*.crt"):
            shutil.copy(ca, cas / ca.name)

    def copy_of(self, other: Machine) -> None:
        """This machine's root as a copy of `other`'s freshly bootstrapped one (seconds, not a
        second debootstrap), with its own name and machine id."""
        host_run("cp", "-a", "--one-file-system", str(other.root), str(self.root), timeout=300)
        (self.root / "etc" / "hostname").write_text(self.name + "\n")
        (self.root / "etc" / "machine-id").write_text("")  # systemd makes a new one at boot

    def connect(self) -> None:
        host_run("ip", "netns", "add", self.namespace)
        host_run("ip", "link", "add", self.host_link, "type", "veth", "peer", "name", self.guest_link)
        host_run("ip", "link", "set", self.guest_link, "netns", self.namespace)
        host_run("ip", "addr", "add", f"{self.host_address}/30", "dev", self.host_link)
        host_run("ip", "link", "set", self.host_link, "up")
        inside = ("ip", "-n", self.namespace)
        host_run(*inside, "addr", "add", f"{self.address}/30", "dev", self.guest_link)
        host_run(*inside, "link", "set", self.guest_link, "up")
        host_run(*inside, "link", "set", "lo", "up")
        host_run(*inside, "route", "add", "default", "via", self.host_address)
        Path("/proc/sys/net/ipv4/ip_forward").write_text("1\n")
        for table, chain, match in self.RULES:
            match = tuple(part.format(network=self.network, host_link=self.host_link) for part in match)
            host_run("iptables", *table, "-I", chain, *match)
            self._rules.append((table, chain, match))

    def boot(self, timeout: float = 120) -> None:
        with open(self.log, "wb") as log:
            self.nspawn = subprocess.Popen(
                ["systemd-nspawn", "-D", str(self.root), "--register=no", "--keep-unit", "-b",
                 "--console=pipe", "-M", self.name, f"--network-namespace-path=/run/netns/{self.namespace}"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        # The container's systemd is nspawn's child once it has exec'd (before, the child is
        # nspawn's own fork, whose namespaces are not yet the container's).
        deadline = time.monotonic() + 30
        while self.init_pid is None:
            children = host_run("pgrep", "-P", str(self.nspawn.pid), "-x", "systemd", check=False).stdout.split()
            if children:
                self.init_pid = int(children[0])
            elif self.nspawn.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"systemd-nspawn did not start systemd: {self.log.read_text()}")
            else:
                time.sleep(0.2)
        # Until systemd has opened its bus, systemctl answers nothing (and says so on stderr).
        deadline = time.monotonic() + timeout
        state = ""
        while not state and time.monotonic() < deadline:
            state = self.run("systemctl is-system-running --wait || true", timeout=timeout).stdout.strip()
            if not state:
                time.sleep(0.5)
        assert state == "running", (state, self.run("systemctl --failed --no-legend || true").stdout)

    def run(self, script: str, *, user: str | None = None, input: str | None = None,
            env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
        """`script` run by bash inside the machine (as root, or as `user` through a login shell:
        `su - user`), stopping at the first failing command; raises CommandFailed with its output."""
        shell = ["bash", "-euo", "pipefail", "-c", script]
        if user:
            shell = ["runuser", "-l", user, "-c", " ".join(_quote(part) for part in shell)]
        command = ["nsenter", "-t", str(self.init_pid), "-a", "env", "-i",
                   *(f"{k}={v}" for k, v in {**ROOT_SHELL_ENV, **(env or {})}.items()), *shell]
        try:
            result = subprocess.run(command, check=False, input=input if input is not None else "", capture_output=True,
                                    text=True, timeout=timeout, cwd="/")
        except subprocess.TimeoutExpired as error:
            raise CommandFailed(f"timed out after {timeout}s:\n{script}\n--- output:\n{error.stdout}\n{error.stderr}") from None
        if result.returncode != 0:
            raise CommandFailed(f"exit {result.returncode}:\n{script}\n--- stdout:\n{result.stdout[-6000:]}\n"
                                f"--- stderr:\n{result.stderr[-6000:]}")
        return result

    def close(self) -> None:
        """Stop the machine and remove all it made; safe to call after any failure."""
        if self.nspawn is not None and self.nspawn.poll() is None:
            # nspawn asks the container's systemd to halt on SIGTERM; kill it if it does not.
            os.killpg(self.nspawn.pid, signal.SIGTERM)
            try:
                self.nspawn.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.nspawn.pid, signal.SIGKILL)
                self.nspawn.wait(timeout=30)
        for table, chain, match in reversed(self._rules):
            host_run("iptables", *table, "-D", chain, *match, check=False)
        self._rules.clear()
        host_run("ip", "link", "del", self.host_link, check=False)
        host_run("ip", "netns", "del", self.namespace, check=False)
        if self.root.exists():
            # Only our own tree: nothing is mounted in it once nspawn has exited.
            host_run("rm", "-rf", "--one-file-system", str(self.root), timeout=300, check=False)


def _quote(part: str) -> str:
    return "'" + part.replace("'", "'\\''") + "'"
