# Glue shared by every VM test: the waits and crashes they all repeat.

# The port each commlab service listens on (the defaults of pkgs/module-settings.nix).
PORTS = {"order": 8080, "inventory": 8081, "notification": 8082, "analytics": 8083}


def wait_up(node: Machine, unit: str, port: int) -> None:
    """Until UNIT is active on NODE and something listens on PORT there."""
    node.wait_for_unit(unit)
    node.wait_for_open_port(port)


def service_up(node: Machine, name: str) -> None:
    """Until commlab-NAME serves on NODE."""
    wait_up(node, f"commlab-{name}.service", PORTS[name])


def reboot(node: Machine, name: str) -> None:
    """NODE crashes and boots again; until commlab-NAME serves on it."""
    node.crash()
    node.start()
    service_up(node, name)


def kill_each(waiter: Machine, services: list[tuple[Machine, str]], pause: int = 5) -> None:
    """Each commlab service SIGKILLed in turn, PAUSE s apart (systemd
    restarts it)."""
    for node, name in services:
        waiter.sleep(pause)
        node.succeed(f"systemctl kill --signal=SIGKILL commlab-{name}.service")
