#!/usr/bin/env bash
# Prepare this machine for `make test` (the Makefile runs it first; running it again is harmless):
#
# * system packages the suite drives for real — nginx with its JavaScript module (the gateway), gpg (signing), curl,
#   chromium and chromium-driver (the web pages' browser tests) — installed with apt-get when
#   missing (as root, or through password-less sudo; otherwise it says what to install);
# * a local PostgreSQL and RabbitMQ that are installed but stopped are started, when the test
#   URLs (PACKYARD_TEST_POSTGRES_URL, PACKYARD_TEST_AMQP_URL) point at this machine.
#
# RabbitMQ's management plugin is not needed: the test fixtures administer a local broker with
# rabbitmqctl (their own vhosts and broker users), and use the management API only for a remote
# broker or a testcontainer.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

say() { printf 'test-env: %s\n' "$*"; }

wait_until() {  # wait_until <seconds> <what> <command...>
  local seconds=$1 what=$2; shift 2
  local i
  for ((i = 0; i < seconds * 2; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  say "$what did not come up within ${seconds}s" >&2
  return 1
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo -n "$@"; else return 126; fi
}

url_host() { python3 -c 'import sys, urllib.parse; print(urllib.parse.urlsplit(sys.argv[1]).hostname or "")' "$1"; }
url_port() { python3 -c 'import sys, urllib.parse; print(urllib.parse.urlsplit(sys.argv[1]).port or sys.argv[2])' "$1" "$2"; }
is_local() { case "$1" in 127.0.0.1|localhost|::1|"") return 0 ;; *) return 1 ;; esac; }
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# --- system packages ---------------------------------------------------------------------------
missing=()
command -v nginx >/dev/null 2>&1 || missing+=(nginx-light)
ls /usr/lib/nginx/modules/ngx_http_js_module.so /usr/share/nginx/modules/ngx_http_js_module.so \
  /etc/nginx/modules/ngx_http_js_module.so >/dev/null 2>&1 || [ -n "${NGINX_JS_MODULE:-}" ] || missing+=(libnginx-mod-http-js)
command -v gpg >/dev/null 2>&1 || missing+=(gnupg)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || [ -x /usr/lib/chromium/chromedriver ] || missing+=(chromium-driver)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
if ((${#missing[@]})); then
  if command -v apt-get >/dev/null 2>&1 && as_root true; then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    lock=(-o DPkg::Lock::Timeout=600)
    as_root apt-get "${lock[@]}" update -qq
    if ! as_root apt-get "${lock[@]}" install -y -qq --no-install-recommends "${missing[@]}"; then
      as_root apt-get "${lock[@]}" install -y -qq --no-install-recommends "${missing[@]/nginx-light/nginx}"
    fi
  else
    say "missing system packages: ${missing[*]} (install them, e.g. apt-get install ${missing[*]}); the tests that need them will fail" >&2
  fi
fi

# --- PostgreSQL --------------------------------------------------------------------------------
pg_url=${PACKYARD_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
pg_host=$(url_host "$pg_url"); pg_port=$(url_port "$pg_url" 5432)
if is_local "$pg_host" && ! port_open 127.0.0.1 "$pg_port"; then
  if command -v pg_lsclusters >/dev/null 2>&1; then
    say "starting PostgreSQL"
    pg_lsclusters --no-header | while read -r version cluster port _rest; do
      if [ "$port" = "$pg_port" ]; then
        as_root pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start || true
      fi
    done
  elif command -v service >/dev/null 2>&1; then
    as_root service postgresql start || true
  fi
  wait_until 60 PostgreSQL port_open 127.0.0.1 "$pg_port"
fi

# --- RabbitMQ ----------------------------------------------------------------------------------
amqp_url=${PACKYARD_TEST_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/}
mq_host=$(url_host "$amqp_url"); mq_port=$(url_port "$amqp_url" 5672)
if is_local "$mq_host" && ! port_open 127.0.0.1 "$mq_port"; then
  if command -v rabbitmq-server >/dev/null 2>&1; then
    say "starting RabbitMQ"
    if [ -n "${PACKYARD_TEST_RABBITMQ_NODE:-}" ]; then export RABBITMQ_NODENAME=$PACKYARD_TEST_RABBITMQ_NODE; fi
    as_root rabbitmq-server -detached || as_root service rabbitmq-server start || true
    wait_until 120 RabbitMQ port_open 127.0.0.1 "$mq_port"
  else
    say "nothing listens on $mq_host:$mq_port and RabbitMQ is not installed (apt-get install rabbitmq-server)" >&2
  fi
fi
exit 0
