# jq definitions shared by the local plan runner (plan.sh) and the plan lint
# (nixlint.sh): the step vocabulary, value resolution and the schema check.
# The format is nixos-tests/plans/README.md.

# The metrics and conditions registry (plan-metrics.json).
import "plan-metrics" as $registry;

# Every operation and the fields it requires (beyond name and op).
def plan_ops: {
  boot: ["order"], phase: ["script", "phase"], await: ["step"],
  sleep: ["seconds"], repeat: ["times", "steps"],
  kill: ["node"], crash: ["node"], start: ["node"], stop: ["node"], restart: ["node"],
  pause: ["node"], resume: ["node"], wipe: ["node"], wait: ["node"],
  cut: ["node", "peers"], heal: ["node", "peers"], block: ["node"], unblock: ["node"],
  delay: ["node", "ms"], undelay: ["node"], fault: ["node", "body"],
  until: ["condition"], record: ["record", "what"], unchanged: ["record"],
  sample: ["series", "metric"], mark: ["series", "what"], unsample: ["series"],
  report: ["script", "out"]
};
# Node roles besides the commlab services.
def plan_roles: ["client", "rabbitmq", "kafka"];
def plan_services: ["order", "inventory", "notification", "analytics"];

# Roles whose nodes have a URL a value may refer to ({"node": N}, {"nodes":
# [N...]}), as the services do: a broker's client URL.
def plan_url_roles: ["rabbitmq", "kafka"];
# Keys a node of a role may have besides role and why.
def plan_role_keys: {client: [], rabbitmq: ["cluster"], kafka: ["broker"]};
# The cluster a rabbitmq node with "cluster": true belongs to: these nodes,
# all three (vm/common.nix rabbitmqClusterNode; lib/rabbitmq-cluster.sh).
def plan_rabbitmq_cluster: ["rabbitmq1", "rabbitmq2", "rabbitmq3"];

# A value of LAB ("vm" or "local"): {"param": P} is that lab's value of P;
# node and record references are resolved by the lab (URLS, RECORDS).
def plan_value($plan; $lab; $urls; $records):
  if type == "object" and has("param") then $plan.params[.param][$lab]
  elif type == "object" and has("node") then $urls[.node]
  elif type == "object" and has("record") then $records[.record]
  elif type == "object" and has("db") then $urls["db:" + .db]
  elif type == "object" and has("nodes") then [.nodes[] as $n | $urls[$n]] | join(",")
  elif type == "object" and has("file") then
    (if $lab == "local" then "\($ENV.COMMLAB_ROOT)/\(.file)" else .file end)
  else . end;

# Steps in order, repeats expanded (times resolved for LAB).
def plan_flat($plan; $lab):
  def flat: .[] | if .op == "repeat"
    then . as $r | range(0; ($r.times | plan_value($plan; $lab; {}; {}))) as $i
      | ($r.steps | flat) | .name = "\($r.name) \($i + 1): \(.name)"
    else . end;
  flat;

# The registry of metrics and named conditions (plan-metrics.json); jq 1.6
# gives a data import as a one-element array.
def plan_registry: $registry::registry | if type == "array" then .[0] else . end;

# Schema errors of the steps that read the registry: until (a named
# condition), sample and record (a metric), mark and unsample (a sampled
# series), and of {"db": NODE} values (a service's database file: the local
# lab's, so in local_only steps only).
def plan_errors_registry($p):
  def steps_of: .[] | ., (select(.op == "repeat") | .steps | steps_of);
  plan_registry as $r
  | ([$p | .. | objects | select(.op? == "sample") | .series]) as $series
  | (($p.steps // []) | steps_of | select([.. | objects | select(has("db"))] | length > 0)
      | "step '\(.name)': a {\"db\": NODE} value outside local_only (a VM cannot reach another node's files)"),
    ([$p | .. | objects | select(has("db")) | .db] | unique[]
      | select(. as $k | ($p.nodes[$k].service // null) == null) | "db reference to '\(.)', not a service node"),
    ([($p.steps // []), ($p.local_only // [])][] | steps_of | . as $s | (.name // "?") as $name
    | if .op == "until" then
        if ($r.conditions | has($s.condition | tostring)) | not then
          "step '\($name)': unknown condition '\($s.condition)' (one of: \($r.conditions | keys | join(", ")))"
        else ($r.conditions[$s.condition] as $c | $c.needs + (if $c.metric then $r.metrics[$c.metric].args else [] end) | unique[]
          | select(. as $f | $s | has($f) | not) | "step '\($name)': condition \($s.condition) needs '\(.)'") end
      elif .op == "sample" or (.op == "record" and .what == "metric") then
        if ($r.metrics | has($s.metric | tostring)) | not then
          "step '\($name)': unknown metric '\($s.metric)' (one of: \($r.metrics | keys | join(", ")))"
        else ($r.metrics[$s.metric].args[] | select(. as $f | $s | has($f) | not)
          | "step '\($name)': metric \($s.metric) needs '\(.)'") end
      elif .op == "record" and (["pid", "time", "elapsed_ms", "metric"] | index($s.what)) == null then
        "step '\($name)': unknown record '\($s.what)' (pid, time, elapsed_ms, metric)"
      elif (.op == "mark" or .op == "unsample") and ($series | index($s.series)) == null then
        "step '\($name)': no sample step makes series '\($s.series)'"
      else empty end);

# Schema errors of kafka nodes: each names its broker id (the VM's node.id,
# the local mock cluster's broker), has no settings, and takes only the
# operations a broker can (both labs implement these).
def plan_kafka_ops: ["crash", "start", "stop", "kill", "pause", "resume", "wait", "cut", "heal", "block", "unblock"];
def plan_errors_kafka($p):
  def steps_of: .[] | ., (select(.op == "repeat") | .steps | steps_of);
  ($p.nodes // {} | with_entries(select(.value.role == "kafka"))) as $k
  | ($k | to_entries[] | .key as $n | .value
      | (if (.broker | type) != "number" or .broker < 1 or .broker != (.broker | floor)
          then "node \($n): a kafka node needs its broker id (\"broker\": 1, 2, ...)" else empty end),
        (if has("settings") then "node \($n): a kafka node has no service settings" else empty end)),
    ([$k[].broker] | group_by(.) | .[] | select(length > 1) | "kafka broker id \(.[0]) used twice"),
    ([($p.steps // []), ($p.local_only // [])][] | steps_of
      | . as $s | select($s.node != null and ($k | has($s.node | tostring)) and (plan_kafka_ops | index($s.op)) == null)
      | "step '\(.name)': \(.op) is not an operation on a kafka node (\(plan_kafka_ops | join(", ")))");

# Schema errors of the role nodes and of what refers to them: a role's own
# keys, the RabbitMQ cluster's members, node lists in values.
def plan_errors_roles($p):
  ($p.nodes // {}) as $nodes
  | ($nodes | to_entries[] | .key as $n | .value | select(has("role")) | . as $node
      | (keys - ["role", "why"] - (plan_role_keys[$node.role] // []))[]
      | "node \($n): key '\(.)' is not one of a \($node.role) node's"),
    ($nodes | to_entries[] | select(.value.role == "rabbitmq" and .value.cluster == true)
      | .key | select(. as $k | plan_rabbitmq_cluster | index($k) | not)
      | "node \(.): a RabbitMQ cluster node must be one of \(plan_rabbitmq_cluster | join(", "))"),
    ([$nodes | to_entries[] | select(.value.role == "rabbitmq" and .value.cluster == true) | .key] as $c
      | if ($c | length) > 0 and ($c | sort) != plan_rabbitmq_cluster
        then "the RabbitMQ cluster must be exactly \(plan_rabbitmq_cluster | join(", ")) (has \($c | join(", ")))"
        else empty end),
    ([$p | .. | objects | select(has("nodes") and (.nodes | type) == "array") | .nodes[]] | unique[]
      | select(. as $k | ($nodes[$k].service // null) == null
          and (($nodes[$k].role // "") as $r | plan_url_roles | index($r)) == null)
      | "reference to '\(.)' in a node list, not a node with a URL");

# Schema errors of a plan, one string each ($settings: {service: [name]}
# from pkgs/module-settings.nix, or {} not to check setting names).
def plan_errors($settings):
  . as $p
  | ($p.nodes // {}) as $nodes
  | [($p.steps // []), ($p.local_only // [])] as $lists
  | def steps_of: .[] | ., (select(.op == "repeat") | .steps | steps_of);
    def refs: .. | objects | select(has("param") or has("node") or has("record") or has("db"));
    def all_steps: $lists[] | steps_of;
  (["test", "about", "needs", "params", "constraints", "nodes", "env", "steps", "local_only"] as $top
    | $p | keys[] | select(. as $k | $top | index($k) | not) | "unknown top-level key '\(.)'"),
  (if ($p.steps | type) != "array" then "steps: missing (an array)" else empty end),
  ($p.needs // [] | .[] | select(. != "hosts") | "needs: unknown '\(.)' (only \"hosts\")"),
  ($p.params // {} | to_entries[] | .key as $k | .value
    | (if has("vm") | not then "parameter \($k): no vm value" else empty end),
      (if has("local") | not then "parameter \($k): no local value" else empty end),
      (if ((.why // "") | type) != "string" or (.why // "") == "" then "parameter \($k): no why" else empty end)),
  ($nodes | to_entries[] | .key as $n | .value
    | if has("service") then
        (if (.service as $x | plan_services | index($x)) == null then "node \($n): unknown service '\(.service)'" else empty end),
        (.service as $svc | .settings // {} | keys[]
          | select(($settings | has($svc)) and (($settings[$svc] | index(.)) == null))
          | "node \($n): unknown setting '\(.)' of service \($svc) (pkgs/module-settings.nix)"),
        (.settings // {} | keys[] | select(. == "listen" or . == "db" or . == "port-file")
          | "node \($n): setting '\(.)' belongs to each lab's backend, not the plan")
      elif has("role") then
        (if (.role as $x | plan_roles | index($x)) == null then "node \($n): unknown role '\(.role)'" else empty end)
      else "node \($n): neither a service nor a role" end),
  ([all_steps | .name] | group_by(.) | .[] | select(length > 1) | "step name '\(.[0])' used twice"),
  (all_steps | . as $s | (.name // "?") as $name
    | if (.name | type) != "string" then "a step without a name: \(tojson)"
      elif (plan_ops | has($s.op // "")) | not then "step '\($name)': unknown operation '\($s.op)'"
      else
        (plan_ops[$s.op][] | select(. as $f | $s | has($f) | not) | "step '\($name)': \($s.op) needs '\(.)'"),
        ([$s.node // empty, ($s.peers // [])[], ($s.order // [])[]][]
          | select(. as $x | $nodes | has($x) | not) | "step '\($name)': unknown node '\(.)'"),
        (if $s.needs != null and $s.needs != "hosts" then "step '\($name)': unknown need '\($s.needs)'" else empty end),
        (if $s.needs == "hosts" and (($p.needs // []) | index("hosts")) == null
          then "step '\($name)': needs hosts, the plan's needs do not say so" else empty end),
        (if $s.op == "restart" then
          ($s.settings // {} | keys[] | select(. as $k | $nodes[$s.node].settings // {} | has($k))
            | "step '\($name)': overrides setting '\(.)', which is also a static setting of node \($s.node) (a command-line option wins over COMMLAB_*: the override would not happen)")
         else empty end)
      end),
  ([$p | refs | select(has("param")) | .param] | unique[]
    | select(. as $k | $p.params // {} | has($k) | not) | "unknown parameter '\(.)'"),
  ([$p | refs | select(has("node")) | .node] | unique[]
    | select(. as $k | ($nodes[$k].service // null) == null
        and (($nodes[$k].role // "") as $r | plan_url_roles | index($r)) == null)
    | "reference to '\(.)', not a service or broker node"),
  plan_errors_registry($p), plan_errors_kafka($p), plan_errors_roles($p),
  (($p.params // {} | keys) - [$p | refs | select(has("param")) | .param] | .[]
    | "parameter \(.): never used"),
  ($p.constraints // [] | .[] | . as $c | ("vm", "local") as $lab
    | ([$c.product[] | plan_value($p; $lab; {}; {})] | reduce .[] as $x (1; . * $x)) as $prod
    | ($c.equals | plan_value($p; $lab; {}; {})) as $eq
    | if ($c.why // "") == "" then "constraint \($c.name): no why"
      elif $prod != $eq then "constraint \($c.name) broken in the \($lab) lab: product \($prod), stated \($eq)"
      else empty end);

# The fault matrix (matrix/matrix.json, docs/lab.md): rows are plan step
# templates over roles; a model binds each role to its nodes ({"role": R} as
# a step's node: one step per bound node; as peers: the list) and each
# {"bind": K} to its value. plan_matrix_cells lists every cell, run or n/a
# (the role the model lacks, and why); plan_matrix is one plan per model, the
# run cells one after another in one lab (one broker start). SIZE is "short"
# (the test command) or "full" (nixos-tests/lab matrix).
def plan_matrix_cells($m; $model):
  $m.models[$model] as $b
  | $m.rows | to_entries[] | .key as $i | .value as $r
  | ([$r.roles[] | select(. as $x | $b.roles | has($x) | not)] | first) as $lack
  | {row: $r.id, index: $i, model: $model, needs: ($r.needs // null)}
    + if $lack == null then {run: true}
      else {run: false, reason: ($b.missing[$lack] // "the model has no \($lack)")} end;

def plan_matrix($m; $model; $size):
  $m.models[$model] as $b
  | $m.workload as $w
  | def bind:
      walk(if type == "object" and has("bind") and (keys | length) == 1 then $b.values[.bind] else . end)
      | if (.peers | type) == "object" then .peers = [$b.roles[.peers.role]] | .peers |= flatten else . end
      | if (.node | type) == "object" then . as $s | [$b.roles[.node.role]] | flatten[] | . as $n | $s | .node = $n
        else . end;
    def param($k): {param: $k};
  [plan_matrix_cells($m; $model) | select(.run)] as $cells
  | [$cells[] | . as $c | $m.rows[$c.index] as $r
      | "matrix/\($r.id)" as $out | (if $r.needs then {needs: $r.needs} else {} end) as $nd
      | ([$r.inject[] | bind] | to_entries | map(.value + {name: "inject \(.key + 1): \(.value.op)"})) as $inj
      | ([$r.heal[] | bind] | to_entries | map(.value + {name: "heal \(.key + 1): \(.value.op)"})) as $heal
      | ([($r.after // [])[] | bind] | to_entries | map(.value + {name: "after \(.key + 1): \(.value.op)"})) as $after
      | [{name: "load", op: "phase", script: "matrix", phase: "load-start",
           args: [$b.kind, param("rate"), param("lead_s"), param("hold_s"), $w.start + $c.index * $w.cell_orders]},
         (if $r.after_load then {name: "load ends", op: "phase", script: "matrix", phase: "load-wait"}
          else {name: "lead-in", op: "sleep", seconds: param("lead_s")} end),
         {name: "fault starts", op: "record", record: "\($r.id)_inject", what: "time"},
         $inj[],
         (if $r.after_load then empty else {name: "hold", op: "sleep", seconds: param("hold_s")} end),
         $heal[],
         {name: "healed", op: "record", record: "\($r.id)_heal", what: "time"},
         {name: "final and judged", op: "phase", script: "matrix", phase: "finish",
           args: [$r.id, {record: "\($r.id)_inject"}, {record: "\($r.id)_heal"}, param("drain_cap_s")]},
         $after[]]
      | .[] | . + $nd + {name: "\($r.id): \(.name)"}
      | if .op == "phase" then .out = $out else . end]
  | flatten as $steps
  | [$steps | .. | objects | select(has("param")) | .param] as $used
  | {test: "matrix-\($model)",
     about: "The fault matrix's cells of \($model) (generated from matrix/matrix.json by plan.jq's plan_matrix, \($size) run).",
     params: ($w | with_entries(select((.value | type) == "object" and (.key as $k | $used | index($k))))
       | map_values({vm: .[$size], local: .[$size], why: .why})),
     nodes: $b.nodes, env: $b.env,
     steps: ([{name: "boot", op: "boot", order: $b.boot}] + $steps)}
  + (if [$steps[] | select(.needs == "hosts")] | length > 0 then {needs: ["hosts"]} else {} end);

# Schema errors of the matrix itself: a row's role that a model neither binds
# nor says why it lacks, a template node that is not a role reference.
def plan_matrix_errors($m):
  ($m.models | keys[]) as $model
  | (plan_matrix_cells($m; $model) | select((.run | not) and ($m.models[$model].missing | type) == "object")
      | . as $c | [$m.rows[$c.index].roles[] | select(. as $x | $m.models[$model].roles | has($x) | not)][0] as $lack
      | select($m.models[$model].missing[$lack] == null)
      | "model \($model) lacks role '\($lack)' of row \($c.row) and does not say why (missing)"),
    ($m.rows[] | .id as $r | [(.inject, .heal, (.after // []))[] | .node // empty, .peers // empty][]
      | select((type != "object") or (has("role") | not)) | "row \($r): a node that is not {\"role\": R}: \(tojson)");
