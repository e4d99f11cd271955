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

# Node operations a role node (a broker) may carry out itself (ROLE_OPS).
ROLE_OP_NAMES = {"kill", "crash", "start", "stop", "restart", "wait", "wipe", "pause", "resume"}

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
        self.series: dict = {}
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
        role = self.plan["nodes"][name].get("role")
        if role in ROLE_UP:
            ROLE_UP[role](self, name)
            return
        m = self.node(name)
        m.wait_for_unit(self.unit(name))
        m.wait_for_open_port(self.lab["ports"][name])
        self.client.wait_until_succeeds(
            "curl -fsS " + shlex.quote(self.lab["urls"][name] + "/healthz"), timeout=300
        )

    def phase_command(self, step: dict) -> str:
        script = step["script"]
        env = dict(self.lab.get("phase_env", {}))
        env.update(self.plan.get("env", {}))
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
        hook = STEP_HOOKS.get(str(op))
        if hook is not None and hook(self, s):
            return
        role = self.role_of(s.get("node", ""))
        if op in ROLE_OP_NAMES and role in ROLE_OPS:
            ROLE_OPS[role](self, s)
            return
        if op in OPS_NEEDING_NODE:
            name = s["node"]
            m = self.node(name)
        if op == "boot":
            # Role nodes with a ROLE_READY (brokers) are made ready before
            # the first service node after them starts.
            pending: list = []
            for n in s["order"]:
                if "service" in self.plan["nodes"][n] and pending:
                    self.roles_ready(pending)
                    pending = []
                self.node(n).start()
                if self.plan["nodes"][n].get("role") in ROLE_READY:
                    pending.append(n)
            if pending:
                self.roles_ready(pending)
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
            self.client.wait_until_succeeds(f"test -f {base}.rc", timeout=int(self.value(s.get("timeout", 600))))
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
            # The unit's StateDirectory: a DynamicUser unit keeps it under
            # /var/lib/private, which `systemctl clean` removes too.
            m.succeed(f"systemctl stop {self.unit(name)} && systemctl clean --what=state {self.unit(name)}")
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

    def role_of(self, name: str) -> str:
        return str(self.plan["nodes"].get(name, {}).get("role", ""))

    def role_up(self, name: str) -> None:
        """Until the role node NAME serves: its role's ROLE_UP."""
        role = self.role_of(name)
        if role == "client":
            return
        if role not in ROLE_UP:
            raise PlanError(f"node {name}: the VM interpreter cannot wait for a {role or 'role-less'} node")
        ROLE_UP[role](self, name)

    def all_steps(self) -> list:
        out: list = []

        def walk(steps: list) -> None:
            for d in steps:
                out.append(d)
                walk(d.get("steps", []))
        walk(self.plan["steps"])
        return out

    def roles_ready(self, names: list) -> None:
        """The ROLE_READY of each role among NAMES, for its nodes."""
        for role in sorted({self.plan["nodes"][n]["role"] for n in names}):
            ROLE_READY[role](self, [n for n in names if self.plan["nodes"][n]["role"] == role])

    def metric_command(self, s: dict) -> str:
        """The command that prints the metric of a measuring step: the
        registry's phase (lib/plan-metrics.json), the step's fields as its
        arguments; the local lab runs the same."""
        if s["op"] == "until" and s["condition"] not in self.lab["registry"]["conditions"]:
            raise PlanError(f"unknown condition '{s['condition']}'")
        name = self.lab["registry"]["conditions"][s["condition"]]["metric"] if s["op"] == "until" else s["metric"]
        if name not in self.lab["registry"]["metrics"]:
            raise PlanError(f"unknown metric '{name}'")
        m = self.lab["registry"]["metrics"][name]
        return self.phase_command({"script": m["script"], "phase": m["phase"], "out": "metrics",
                                   "args": [s[f] for f in m["args"]]})

# Roles: how a role node is up (start, wait) and what makes its nodes ready
# before the services start (boot). Each role adds its own.
def kafka_up(p: Plan, name: str) -> None:
    m = p.node(name)
    m.wait_for_unit(p.unit(name))
    m.wait_for_open_port(p.lab["ports"][name])
    m.wait_for_open_port(p.lab["kafka"]["controller_port"])


def kafka_ready(p: Plan, names: list) -> None:
    for n in names:
        kafka_up(p, n)
    p.client.wait_for_unit("multi-user.target")
    p.client.wait_until_succeeds(p.lab["kafka"]["topics"], timeout=300)
    p.node(names[0]).succeed(p.lab["kafka"]["replication_check"])


# The rabbitmq role: nixpkgs' services.rabbitmq on a node of its own.
def rabbitmq_up(p: Plan, name: str) -> None:
    m = p.node(name)
    m.wait_for_unit(p.lab["rabbitmq"]["unit"])
    m.wait_for_open_port(p.lab["rabbitmq"]["port"])


def rabbitmq_op(p: Plan, s: dict) -> None:
    op, name = s["op"], s["node"]
    m = p.node(name)
    unit = p.lab["rabbitmq"]["unit"]
    if op == "kill":
        # systemd starts it again (the module's Restart=on-failure).
        m.succeed(f"systemctl kill --signal=SIGKILL {unit}")
        m.wait_until_succeeds(f"systemctl is-active {unit}", timeout=300)
        rabbitmq_up(p, name)
    elif op == "crash":
        m.crash()
    elif op == "start":
        m.start()
        m.succeed(f"systemctl start {unit}")
        rabbitmq_up(p, name)
    elif op == "stop":
        m.succeed(f"systemctl stop {unit}")
    elif op == "restart":
        m.succeed(f"systemctl restart {unit}")
        rabbitmq_up(p, name)
    elif op == "wait":
        rabbitmq_up(p, name)
    else:
        raise PlanError(f"operation '{op}' of a rabbitmq node is not implemented by the VM interpreter")


def cond_cluster_running(p: Plan, s: dict) -> tuple:
    """NODE sees N running cluster nodes (rabbitmqctl as the rabbitmq user)."""
    n = int(p.value(s["n"]))
    return p.node(s["node"]), f"{p.lab['rabbitmq']['cluster_status']} | jq -e '.running_nodes | length == {n}'"


def cond_queue_replicas(p: Plan, s: dict) -> tuple:
    """QUEUE has N members (replicas), as NODE lists them."""
    n = int(p.value(s["n"]))
    q = shlex.quote(p.text(s["queue"]))
    return p.node(s["node"]), (f"{p.lab['rabbitmq']['queues']} | jq -e --arg q {q} "
                               f"'[.[] | select(.name == $q) | .members | length] | first == {n}'")


# Roles: how a role node is up (start, wait), what makes its nodes ready
# before the services start (boot), the node operations it carries out
# itself (a role without them: the generic ones on its unit), and the
# conditions it checks on its own node (the registry's conditions with a
# role: the node and the command that succeeds once it holds).
ROLE_UP: dict = {"kafka": kafka_up, "rabbitmq": rabbitmq_up}
ROLE_READY: dict = {"kafka": kafka_ready}
ROLE_OPS: dict = {"rabbitmq": rabbitmq_op}
ROLE_CONDITIONS: dict = {"cluster_running": cond_cluster_running, "queue_replicas": cond_queue_replicas}


# The measuring steps (plans/README.md): until a named condition, record a
# metric, sample / mark / unsample a time series, all with the registry's
# metrics. A step hook returns whether the step was its business.
# Whether the first number is above A and at most B x S: the same program
# as the local lab's (lib/plan-series.sh, _plan_bounds).
BOUNDS = ("NR == 1 { ok = ($1 ~ /^-?[0-9.]+$/) && (a == \"\" || $1 + 0 > a + 0) && "
          "(b == \"\" || $1 + 0 <= b * (s == \"\" ? 1 : s)) } END { exit !ok }")


def until_step(p: Plan, s: dict) -> bool:
    cond = p.lab["registry"]["conditions"].get(s["condition"], {})
    if "role" in cond:
        if s["condition"] not in ROLE_CONDITIONS:
            raise PlanError(f"condition '{s['condition']}' is not implemented by the VM interpreter")
        m, cmd = ROLE_CONDITIONS[s["condition"]](p, s)
        m.wait_until_succeeds(cmd, timeout=int(p.value(s.get("timeout", 600))))
        return True
    bounds = " ".join(f"-v {k}={shlex.quote(p.text(s[f]) if f in s else '')}"
                      for k, f in (("a", "above"), ("b", "at_most"), ("s", "share")))
    p.client.wait_until_succeeds(f"{p.metric_command(s)} | awk {bounds} {shlex.quote(BOUNDS)}",
                                 timeout=int(p.value(s.get("timeout", 600))))
    return True


def record_step(p: Plan, s: dict) -> bool:
    if s.get("what") != "metric":
        return False
    # The command fails unless the metric begins with a number.
    v = p.client.succeed(f"{p.metric_command(s)} | awk 'NR == 1 && $1 ~ /^-?[0-9.]+$/ {{ print $1; ok = 1 }} END {{ exit !ok }}'").strip()
    p.records[s["record"]] = v
    return True


def elapsed(t0: str) -> str:
    return f"$(awk -v a=\"$(date +%s.%N)\" -v b=\"$(cat {t0})\" 'BEGIN {{ printf \"%.2f\", a - b }}')"


def sample_step(p: Plan, s: dict) -> bool:
    d = p.lab["results"] + "/" + s.get("out", p.plan["test"])
    f = f"{d}/{s['series']}.tsv"
    p.series[s["series"]] = f
    loop = (f"while [ -e {f}.t0 ]; do v=$({p.metric_command(s)} 2>/dev/null | head -n 1); "
            f"echo \"{elapsed(f + '.t0')} ${{v:-0}}\" >>{f}; sleep {float(p.value(s.get('every', 0.5)))}; done")
    p.client.succeed(f"mkdir -p {d}; : >{f}; rm -f {f}.marks; date +%s.%N >{f}.t0; "
                     f"sh -c {shlex.quote(loop)} >/dev/null 2>&1 & echo $! >{f}.pid")
    return True


def mark_step(p: Plan, s: dict) -> bool:
    f = p.series[s["series"]]
    p.client.succeed(f"echo \"{elapsed(f + '.t0')} {shlex.quote(p.text(s['what']))}\" >>{f}.marks")
    return True


def unsample_step(p: Plan, s: dict) -> bool:
    f = p.series[s["series"]]
    p.client.succeed(f"kill $(cat {f}.pid)")
    return True


STEP_HOOKS: dict = {"until": until_step, "record": record_step, "sample": sample_step,
                    "mark": mark_step, "unsample": unsample_step}



def run_plan(plan: dict, lab: dict) -> None:
    p = Plan(plan, lab)
    p.steps(plan["steps"])
    p.client.copy_from_vm(lab["results"], "")
