# Glue shared by the tests with inventory, notification and order nodes.


def wait_for_services() -> None:
    """Until inventory, notification and order serve, and the client reaches
    the order service."""
    service_up(inventory, "inventory")
    service_up(notification, "notification")
    service_up(order, "order")
    client.wait_for_unit("multi-user.target")
    client.wait_until_succeeds("curl -fsS http://order:8080/healthz")
