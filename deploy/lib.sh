# Shell helpers shared by the scripts that run the gateway as a process or a container
# (client/consumer-test/run.sh, deploy/container/test.sh, deploy/compose/test.sh). Source it.

# A free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# await_ready URL [SECONDS]: until URL answers 2xx (default 30 s); false on timeout.
await_ready() {
  local url=$1 tries=$(( ${2:-30} * 5 ))
  for _ in $(seq "$tries"); do
    curl -fs "$url" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}

# await_line FILE PATTERN [SECONDS]: until a line of FILE matches the grep PATTERN (default 10 s);
# false on timeout.
await_line() {
  local file=$1 pattern=$2 tries=$(( ${3:-10} * 10 ))
  for _ in $(seq "$tries"); do
    grep -q "$pattern" "$file" && return 0
    sleep 0.1
  done
  return 1
}
