/**
 * The head's dnsmasq servers (NetworkDhcp renders them): the commands that read what the head runs,
 * and that start, reload and stop one server. Each is one `sh -c` with its values as arguments (the
 * runner quotes every word), so one round trip per server and change.
 *
 * A server is "ours and alive" when its pid file names a live process whose command line holds
 * `--conf-file=<its config>`: a stale pid file, or a pid reused by something else, reads as dead
 * and the server is started afresh. Files live under the state directory, `<name>.{conf,hosts,pid,
 * leases}`, so a restarted controller finds them there.
 */
import * as NetworkDhcp from "../../model/NetworkDhcp.js"

export interface Options extends NetworkDhcp.Options {
  /** The dnsmasq binary on the head; default "dnsmasq". */
  readonly dnsmasq?: string | undefined
}

const RUNNING = `running() { [ -s "$pid" ] && p=$(cat "$pid") && [ -r "/proc/$p/cmdline" ] && tr '\\0' ' ' < "/proc/$p/cmdline" | grep -qF -- "--conf-file=$conf "; }`

/** Lists the servers under the state directory: `name alive|dead base64(config) base64(hosts)` per line. */
const LIST = `${RUNNING}
dir=$1
[ -d "$dir" ] || exit 0
for conf in "$dir"/*.conf; do
  [ -f "$conf" ] || continue
  name=\${conf##*/}; name=\${name%.conf}
  pid=$dir/$name.pid; hosts=$dir/$name.hosts
  alive=dead; if running; then alive=alive; fi
  h=; if [ -f "$hosts" ]; then h=$(base64 -w0 < "$hosts"); fi
  printf '%s %s %s %s\\n' "$name" "$alive" "$(base64 -w0 < "$conf")" "$h"
done
`

/**
 * restart|reload|stop for one server. reload rewrites the hosts file and sends SIGHUP, or restarts
 * when the server is not alive; restart stops it (TERM, then KILL after 5 s), forgets its leases,
 * writes both files and starts dnsmasq, whose own startup errors are the command's stderr. Prints
 * what it did.
 */
const ONE = `${RUNNING}
action=$1 dnsmasq=$2 conf=$3 hosts=$4 pid=$5 leases=$6 config=$7 hostlines=$8
stop() {
  if running; then
    kill "$p" 2>/dev/null
    i=0; while [ -e "/proc/$p" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
    [ -e "/proc/$p" ] && kill -9 "$p" 2>/dev/null
  fi
  rm -f -- "$pid"
}
write() { printf '%s' "$2" > "$1.tmp" && mv -f -- "$1.tmp" "$1"; }
case $action in
  stop)
    stop; rm -f -- "$conf" "$hosts" "$leases" "$conf.err"; echo stopped ;;
  reload)
    if running; then write "$hosts" "$hostlines" || exit 1; kill -HUP "$p" && echo reloaded; exit; fi
    action=restart ;;
esac
if [ "$action" = restart ]; then
  stop
  # dnsmasq rereads the hosts file as its unprivileged user: the directory must let it.
  mkdir -p -- "\${conf%/*}" && chmod 0755 -- "\${conf%/*}" || exit 1
  rm -f -- "$leases"
  write "$conf" "$config" && write "$hosts" "$hostlines" || exit 1
  if ! "$dnsmasq" --conf-file="$conf" </dev/null >/dev/null 2>"$conf.err"; then cat "$conf.err" >&2; exit 1; fi
  echo started
fi
`

export interface Running {
  readonly name: string
  readonly alive: boolean
  readonly config: string
  readonly hostsFile: string
}

export const listCommand = (stateDir: string): ReadonlyArray<string> => ["sh", "-c", LIST, "eucadhcp-list", stateDir]

/** The output of listCommand; lines it cannot read are skipped (they are not ours). */
export const parseList = (text: string): ReadonlyArray<Running> => {
  const out: Array<Running> = []
  for (const line of text.split("\n")) {
    const [name, alive, config, hosts, ...rest] = line.split(" ")
    if (name === undefined || name === "" || (alive !== "alive" && alive !== "dead") || config === undefined || rest.length > 0) continue
    const b64 = (s: string | undefined) => Buffer.from(s ?? "", "base64").toString("utf8")
    out.push({ name, alive: alive === "alive", config: b64(config), hostsFile: b64(hosts) })
  }
  return out
}

const one = (action: "restart" | "reload" | "stop", o: Options, files: NetworkDhcp.Files, config: string, hosts: string): ReadonlyArray<string> =>
  ["sh", "-c", ONE, `eucadhcp-${action}`, action, o.dnsmasq ?? "dnsmasq", files.config, files.hosts, files.pid, files.leases, config, hosts]

export const startCommand = (o: Options, s: NetworkDhcp.Server) => one("restart", o, s.files, s.config, s.hostsFile)
export const reloadCommand = (o: Options, s: NetworkDhcp.Server) => one("reload", o, s.files, s.config, s.hostsFile)
export const stopCommand = (o: Options, name: string) => one("stop", o, NetworkDhcp.filesOf(o.stateDir, name), "", "")

/** The commands taking the head from what runs (`running`, alive or not) to `wanted`. */
export const commands = (o: Options, running: ReadonlyArray<Running>, wanted: ReadonlyArray<NetworkDhcp.Server>): Array<ReadonlyArray<string>> => {
  const out: Array<ReadonlyArray<string>> = []
  const names = new Set(wanted.map((w) => w.name))
  for (const r of running) if (!names.has(r.name)) out.push(stopCommand(o, r.name))
  for (const w of wanted) {
    const r = running.find((x) => x.name === w.name)
    const before = r !== undefined && r.alive ? { ...w, config: r.config, hostsFile: r.hostsFile } : undefined
    const c = NetworkDhcp.change(before, w)
    if (c === "restart") out.push(startCommand(o, w))
    else if (c === "reload") out.push(reloadCommand(o, w))
  }
  return out
}

/** What the head runs once `wanted` is applied. */
export const runningAfter = (wanted: ReadonlyArray<NetworkDhcp.Server>): ReadonlyArray<Running> =>
  wanted.map((w) => ({ name: w.name, alive: true, config: w.config, hostsFile: w.hostsFile }))
