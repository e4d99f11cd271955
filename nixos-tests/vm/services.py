# Glue shared by the tests with inventory, notification and order nodes.


def wait_for_services() -> None:
    """Until inventory, notification and order serve, and the client reaches
    the order service."""
    inventory.wait_for_unit("commlab-inventory.service")
    inventory.wait_for_open_port(8081)
    notification.wait_for_unit("commlab-notification.service")
    notification.wait_for_open_port(8082)
    order.wait_for_unit("commlab-order.service")
    order.wait_for_open_port(8080)
    client.wait_for_unit("multi-user.target")
    client.wait_until_succeeds("curl -fsS http://order:8080/healthz")
