# The one plan interpreter of the VM tests: runs a plan
# (nixos-tests/plans/TEST.json, format in plans/README.md) step by step,
# each in a subtest named for it. PLAN is the plan, LAB what the Nix side
# knows of this test's machines (vm/common.nix: planLab): service URLs and
# units, the scenario scripts' directory, the network-fault command, where
# results go. Every phase name, argument and setting comes from the plan.
import json
import shlex
import time
from typing import Any

# Node operations a role node (a broker) carries out itself: ROLE_op.
ROLE_OPS = {"kill", "crash", "start", "stop", "restart", "wait", "wipe", "pause", "resume"}

OPS_NEEDING_NODE = {
    "kill", "crash", "start", "stop", "restart", "pause", "resume", "wipe",
    "wait", "cut", "heal", "block", "unblock", "delay", "undelay", "fault",
}


class PlanError(Exception):
    pass


class Plan:
    def __init__(self, plan: dict, lab: dict) -> None:
        self.plan = plan
        self.lab = lab
        self.machines = {m.name: m for m in machines}
        self.records: dict = {}
        self.background: dict = {}
        self.client = self.node(self.role_node("client"))

    def role_node(self, role: str) -> str:
        for name, node in self.plan["nodes"].items():
            if node.get("role") == role:
                return name
        raise PlanError(f"the plan has no {role} node")

    def node(self, name: str) -> Machine:
        if name not in self.plan["nodes"] or name not in self.machines:
            raise PlanError(f"unknown node '{name}'")
        return self.machines[name]

    def value(self, v: object) -> Any:
        if isinstance(v, dict):
            if "param" in v:
                return self.plan["params"][v["param"]]["vm"]
            if "node" in v:
                return self.lab["urls"][v["node"]]
            if "record" in v:
                return self.records[v["record"]]
            if "nodes" in v:
                return ",".join(self.lab["urls"][n] for n in v["nodes"])
            if "file" in v:
                return self.lab["files"][v["file"]]
            raise PlanError(f"not a value: {json.dumps(v)}")
        return v

    def text(self, v: object) -> str:
        r = self.value(v)
        if isinstance(r, bool):
            return "true" if r else "false"
        return str(r)

    def unit(self, name: str) -> str:
        return self.lab["units"][name]

    def service_up(self, name: str) -> None:
        """Until the service of NAME is active, listens, and serves the client."""
        m = self.node(name)
        m.wait_for_unit(self.unit(name))
        m.wait_for_open_port(self.lab["ports"][name])
        self.client.wait_until_succeeds(
            "curl -fsS " + shlex.quote(self.lab["urls"][name] + "/healthz"), timeout=300
        )

    def phase_command(self, step: dict) -> str:
        script = step["script"]
        env = dict(self.plan.get("env", {}))
        env.update(step.get("env", {}))
        words = ["env", f"SEED={self.lab['seed']}", "OUT_DIR=" + self.lab["results"] + "/" + step.get("out", script)]
        words += [f"{k}={self.text(v)}" for k, v in sorted(env.items())]
        words += ["sh", self.lab["scenarios"] + "/" + script + ".sh", step["phase"]]
        words += [self.text(a) for a in step.get("args", [])]
        return " ".join(shlex.quote(w) for w in words)

    def steps(self, steps: list, prefix: str = "") -> None:
        for step in steps:
            if step.get("op") == "repeat":
                for i in range(int(self.value(step["times"]))):
                    self.steps(step["steps"], f"{prefix}{step['name']} {i + 1}: ")
            else:
                self.step(step, prefix + step["name"])

    def step(self, step: dict, name: str) -> None:
        with subtest(name):
            try:
                self.run(step)
            except Exception as e:
                phase = f", phase {step['script']} {step['phase']}" if step.get("op") == "phase" else ""
                print(f"plan {self.plan['test']}: step '{name}' ({step.get('op')}{phase}) failed: {e}")
                nodes = [step["node"]] if "node" in step else [
                    n for n, d in self.plan["nodes"].items() if "service" in d]
                for n in nodes:
                    if n in self.lab["units"]:
                        _, log = self.node(n).execute(
                            f"journalctl -u {shlex.quote(self.unit(n))} -n 30 --no-pager")
                        print(f"--- last log lines of {n}:\n{log}")
                raise

    def net_fault(self, node: Machine, args: str) -> None:
        node.succeed(self.lab["netfault"] + " " + args)

    def run(self, s: dict) -> None:
        op = s.get("op")
        if self.run_more(s):
            return
        if op in OPS_NEEDING_NODE:
            name = s["node"]
            m = self.node(name)
        if op == "boot":
            for n in s["order"]:
                self.node(n).start()
            self.client.wait_for_unit("multi-user.target")
            for n in s["order"]:
                if n in self.lab["units"]:
                    self.service_up(n)
                else:
                    self.role_up(n)
        elif op == "phase":
            cmd = self.phase_command(s)
            if s.get("background"):
                base = self.lab["results"] + "/" + s["name"].replace(" ", "_")
                self.client.succeed(
                    f"mkdir -p {shlex.quote(self.lab['results'])}; rm -f {base}.rc; "
                    f"( {cmd} >{base}.log 2>&1; echo $? >{base}.rc ) >/dev/null 2>&1 &")
                self.background[s["name"]] = base
            else:
                self.client.succeed(cmd)
        elif op == "await":
            base = self.background[s["step"]]
            self.client.wait_until_succeeds(f"test -f {base}.rc", timeout=int(s.get("timeout", 600)))
            self.client.succeed(f"cat {base}.log; test \"$(cat {base}.rc)\" = 0")
        elif op == "sleep":
            self.client.sleep(int(self.value(s["seconds"])))
        elif op == "kill":
            # systemd restarts it.
            m.succeed(f"systemctl kill --signal=SIGKILL {self.unit(name)}")
        elif op == "crash":
            m.crash()
        elif op == "start":
            m.start()
            self.service_up(name)
        elif op == "stop":
            m.succeed(f"systemctl stop {self.unit(name)}")
        elif op == "restart":
            # Settings for one start: the manager's environment (COMMLAB_*)
            # for this restart only; no static option of the same name.
            sets = {"COMMLAB_" + k.upper().replace("-", "_"): self.text(v)
                    for k, v in s.get("settings", {}).items()}
            cmd = f"systemctl restart {self.unit(name)}"
            if sets:
                assign = " ".join(shlex.quote(f"{k}={v}") for k, v in sorted(sets.items()))
                cmd = (f"systemctl set-environment {assign} && {cmd} && "
                       f"systemctl unset-environment {' '.join(sorted(sets))}")
            m.succeed(cmd)
            self.service_up(name)
        elif op == "wait":
            self.service_up(name)
        elif op in ("pause", "resume"):
            sig = "SIGSTOP" if op == "pause" else "SIGCONT"
            m.succeed(f"systemctl kill --signal={sig} {self.unit(name)}")
        elif op == "wipe":
            m.succeed(f"systemctl stop {self.unit(name)} && rm -rf /var/lib/{self.unit(name).removesuffix('.service')}")
        elif op == "fault":
            body = json.dumps({k: self.value(v) for k, v in s["body"].items()}, separators=(",", ":"))
            self.client.succeed(
                "curl -fsS -X POST -H 'Content-Type: application/json' --data "
                + shlex.quote(body) + " " + shlex.quote(self.lab["urls"][name] + "/configure"))
        elif op == "delay":
            m.succeed(f"tc qdisc add dev {self.lab['iface']} root netem delay {int(self.value(s['ms']))}ms")
        elif op == "undelay":
            m.succeed(f"tc qdisc del dev {self.lab['iface']} root")
        elif op in ("cut", "heal"):
            # Two-sided unless the step says one_sided.
            peers = [str(p) for p in s["peers"]]
            for p in peers:
                self.node(p)
            if op == "cut":
                self.net_fault(m, "cut " + " ".join(shlex.quote(p) for p in peers))
                if not s.get("one_sided"):
                    for p in peers:
                        self.net_fault(self.node(p), "cut " + shlex.quote(name))
            else:
                for n in [name] + ([] if s.get("one_sided") else peers):
                    self.net_fault(self.node(n), "heal")
        elif op == "block":
            m.block()
        elif op == "unblock":
            m.unblock()
        elif op == "record":
            what = s["what"]
            if what == "pid":
                pm = self.node(s["node"])
                self.records[s["record"]] = pm.succeed(
                    f"systemctl show -p MainPID --value {self.unit(s['node'])}").strip()
            elif what == "time":
                self.records[s["record"]] = int(time.monotonic() * 1000)
            elif what == "elapsed_ms":
                self.records[s["record"]] = int(time.monotonic() * 1000) - int(self.records[s["since"]])
            else:
                raise PlanError(f"unknown record '{what}'")
        elif op == "unchanged":
            first = [d for d in self.all_steps() if d.get("op") == "record" and d.get("record") == s["record"]][0]
            before = self.records[s["record"]]
            now = self.node(first["node"]).succeed(
                f"systemctl show -p MainPID --value {self.unit(first['node'])}").strip()
            if now != before:
                raise PlanError(f"{s['record']} changed: {before} -> {now}")
        else:
            raise PlanError(f"operation '{op}' is not implemented by the VM interpreter")

    # Role nodes (brokers) and the generic waits and series. A role ROLE
    # brings ROLE_up (until it serves) and ROLE_op (its node operations);
    # a condition NAME of `until` is cond_NAME (the step: its fields), which
    # gives the node and the command that succeeds once it holds.

    def role_of(self, name: str) -> str:
        return str(self.plan["nodes"].get(name, {}).get("role", ""))

    def role_up(self, name: str) -> None:
        role = self.role_of(name)
        if role == "client":
            return
        up = getattr(self, f"{role}_up", None)
        if up is None:
            raise PlanError(f"node {name}: the VM interpreter cannot wait for a {role or 'role-less'} node")
        up(name)

    def run_more(self, s: dict) -> bool:
        op = s.get("op")
        role = self.role_of(s.get("node", ""))
        if role and op in ROLE_OPS:
            handler = getattr(self, f"{role}_op", None)
            if handler is None:
                raise PlanError(f"operation '{op}' of a {role} node is not implemented by the VM interpreter")
            handler(s)
        elif op == "until":
            cond = getattr(self, "cond_" + str(s["condition"]), None)
            if cond is None:
                raise PlanError(f"condition '{s['condition']}' is not implemented by the VM interpreter")
            m, cmd = cond(s)
            m.wait_until_succeeds(cmd, timeout=int(self.value(s.get("timeout", 60))))
        elif op in ("sample", "mark", "unsample"):
            # scenarios/series.sh on the client, as in the local lab; the
            # metric's arguments: the node's URL, then the step's args.
            sample = [d for d in self.all_steps() + self.plan.get("local_only", [])
                      if d.get("op") == "sample" and d.get("series") == s["series"]][0]
            out = self.lab["results"] + "/" + sample.get("out", self.plan["test"])
            if op == "sample":
                words = [s["series"], self.text(s.get("interval", 0.5)), s["metric"],
                         self.lab["urls"][s["node"]]] + [self.text(a) for a in s.get("args", [])]
            elif op == "mark":
                words = [s["series"], self.text(s["what"])]
            else:
                words = [s["series"]]
            self.client.succeed(f"env OUT_DIR={shlex.quote(out)} {self.lab['series'][op]} "
                                + " ".join(shlex.quote(w) for w in words))
        else:
            return False
        return True

    # The rabbitmq role: nixpkgs' services.rabbitmq on a node of its own.
    def rabbitmq_up(self, name: str) -> None:
        m = self.node(name)
        m.wait_for_unit(self.lab["rabbitmq"]["unit"])
        m.wait_for_open_port(self.lab["rabbitmq"]["port"])

    def rabbitmq_op(self, s: dict) -> None:
        op, name = s["op"], s["node"]
        m = self.node(name)
        unit = self.lab["rabbitmq"]["unit"]
        if op == "kill":
            # systemd starts it again (the module's Restart=on-failure).
            m.succeed(f"systemctl kill --signal=SIGKILL {unit}")
            m.wait_until_succeeds(f"systemctl is-active {unit}", timeout=300)
            self.rabbitmq_up(name)
        elif op == "crash":
            m.crash()
        elif op == "start":
            m.start()
            m.succeed(f"systemctl start {unit}")
            self.rabbitmq_up(name)
        elif op == "stop":
            m.succeed(f"systemctl stop {unit}")
        elif op == "restart":
            m.succeed(f"systemctl restart {unit}")
            self.rabbitmq_up(name)
        elif op == "wait":
            self.rabbitmq_up(name)
        else:
            raise PlanError(f"operation '{op}' of a rabbitmq node is not implemented by the VM interpreter")

    def cond_cluster_running(self, s: dict) -> tuple:
        """NODE sees N running cluster nodes (rabbitmqctl as the rabbitmq user)."""
        n = int(self.value(s["n"]))
        return self.node(s["node"]), f"{self.lab['rabbitmq']['cluster_status']} | jq -e '.running_nodes | length == {n}'"

    def cond_queue_replicas(self, s: dict) -> tuple:
        """QUEUE has N members (replicas), as NODE lists them."""
        n = int(self.value(s["n"]))
        q = shlex.quote(self.text(s["queue"]))
        return self.node(s["node"]), (f"{self.lab['rabbitmq']['queues']} | jq -e --arg q {q} "
                                      f"'[.[] | select(.name == $q) | .members | length] | first == {n}'")

    def all_steps(self) -> list:
        out: list = []

        def walk(steps: list) -> None:
            for d in steps:
                out.append(d)
                walk(d.get("steps", []))
        walk(self.plan["steps"])
        return out


def run_plan(plan: dict, lab: dict) -> None:
    p = Plan(plan, lab)
    p.steps(plan["steps"])
    p.client.copy_from_vm(lab["results"], "")
