# Types of the NixOS test driver's globals that the VM glue uses
# (nixos-tests/vm/*.py), for mypy in nixos-tests/lib/nixlint.sh: the
# signatures of nixpkgs' nixos/lib/test-driver Machine methods at the
# pinned release. A glue line calling a method not listed here fails the
# check: add it with the driver's signature.


from contextlib import contextmanager
from typing import Iterator


class Machine:
    name: str

    def start(self, allow_reboot: bool = False) -> None: ...

    def crash(self) -> None: ...

    def succeed(self, *commands: str, timeout: int | None = None) -> str:
        raise NotImplementedError

    def execute(
        self, command: str, check_return: bool = True, check_output: bool = True,
        timeout: int | None = 900
    ) -> tuple[int, str]:
        raise NotImplementedError

    def wait_for_unit(
        self, unit: str, user: str | None = None, timeout: int = 900
    ) -> None: ...

    def wait_for_open_port(
        self, port: int, addr: str = "localhost", timeout: int = 900
    ) -> None: ...

    def wait_until_succeeds(self, command: str, timeout: int = 900) -> str:
        raise NotImplementedError

    def sleep(self, secs: int) -> None: ...

    def copy_from_vm(self, source: str, target_dir: str = "") -> None: ...

    # Network partitions: the node's link to the other nodes down, and up.
    def block(self) -> None: ...

    def unblock(self) -> None: ...


def start_all() -> None: ...


machines: list[Machine] = []


@contextmanager
def subtest(name: str) -> Iterator[None]:
    yield
