# A recording stand-in for the NixOS test driver (nixlint.sh's dry run):
# runs a testScript with node objects that do nothing but note each call;
# the shell commands (succeed, execute, wait_until_succeeds) go to
# DIR/cmd.N, one file each, and every call to DIR/transcript.txt.
#   python3 driver-record.py SCRIPT DIR NODE...
import contextlib
import sys
from typing import Any, Iterator

script, out, names = sys.argv[1], sys.argv[2], sys.argv[3:]
transcript = open(f"{out}/transcript.txt", "w")
count = 0


def note(line: str) -> None:
    transcript.write(line + "\n")


def command(node: str, method: str, cmd: str) -> None:
    global count
    count += 1
    with open(f"{out}/cmd.{count}", "w") as f:
        f.write(cmd)
    note(f"[{count}] {node}.{method}: {cmd}")


class Machine:
    def __init__(self, name: str) -> None:
        self.name = name

    def succeed(self, *commands: str, timeout: Any = None) -> str:
        for c in commands:
            command(self.name, "succeed", c)
        return ""

    def execute(self, cmd: str, check_return: bool = True, check_output: bool = True,
                timeout: Any = 900) -> tuple[int, str]:
        command(self.name, "execute", cmd)
        return (0, "")

    def wait_until_succeeds(self, cmd: str, timeout: int = 900) -> str:
        command(self.name, "wait_until_succeeds", cmd)
        return ""

    def __getattr__(self, method: str) -> Any:
        if method not in ("start", "crash", "wait_for_unit", "wait_for_open_port", "sleep",
                          "copy_from_vm", "block", "unblock"):
            raise AttributeError(f"the driver stub has no Machine.{method}")

        def call(*args: Any, **kw: Any) -> None:
            note(f"{self.name}.{method}({', '.join(repr(a) for a in args)})")
        return call


@contextlib.contextmanager
def subtest(name: str) -> Iterator[None]:
    note(f"subtest: {name}")
    yield


nodes = {n: Machine(n) for n in names}
env: dict = dict(nodes)
env.update(machines=list(nodes.values()), subtest=subtest, Machine=Machine,
           start_all=lambda: note("start_all()"))
with open(script) as f:
    exec(compile(f.read(), script, "exec"), env)
transcript.close()
