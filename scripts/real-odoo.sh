#!/usr/bin/env bash
# Sets up and starts a real Odoo Community (17.0 or 18.0) on loopback for the live contract tests
# (`npm run test:odoo`); nothing of Odoo lands in this repository. How to get the source and what its
# API really does: ../shared/docs/real-odoo.md. Usage (as root, PostgreSQL on 127.0.0.1:5432):
#
#   scripts/real-odoo.sh ODOO_SRC RUN_DIR [PORT] [DB]     e.g. scripts/real-odoo.sh /work/odoo-src /work/odoo-run
#   . RUN_DIR/live.env && npm run test:odoo
#
# ODOO_SRC is an unpacked Odoo tree (odoo-bin plus addons/ or odoo/addons/). The first run installs the
# Debian Python dependencies, creates the database with `account` and demo data (about a minute),
# grants the integration groups, activates EUR, adds an isolation company, prints a persistent API key
# into RUN_DIR/live.env and starts the server; later runs only start it. Stop: kill $(cat RUN_DIR/odoo.pid).
set -euo pipefail
SRC=$(realpath "${1:?ODOO_SRC}")
RUN=$(realpath -m "${2:?RUN_DIR}")
PORT=${3:-8069}
DB=${4:-finance}
HERE=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$RUN/data"

if ! /usr/bin/python3 -c 'import psycopg2, lxml, babel, werkzeug, passlib, phonenumbers' 2>/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    fonts-inconsolata fonts-font-awesome fonts-roboto-unhinted gsfonts lsb-base postgresql-client \
    python3-asn1crypto python3-babel python3-cbor2 python3-chardet python3-dateutil python3-decorator \
    python3-docutils python3-freezegun python3-geoip2 python3-gevent python3-greenlet python3-idna \
    python3-pil python3-jinja2 python3-libsass python3-lxml python3-markupsafe python3-num2words \
    python3-ofxparse python3-openpyxl python3-passlib python3-polib python3-psutil python3-psycopg2 \
    python3-pypdf2 python3-rjsmin python3-qrcode python3-renderpm python3-reportlab python3-requests \
    python3-stdnum python3-tz python3-urllib3 python3-vobject python3-werkzeug python3-xlsxwriter \
    python3-xlrd python3-zeep python3-ldap python3-phonenumbers
fi
su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='odoo'\"" | grep -q 1 ||
  su postgres -c "psql -qc \"CREATE ROLE odoo WITH LOGIN SUPERUSER PASSWORD 'odoo'\""

addons="$SRC/odoo/addons"
[ -d "$SRC/addons" ] && addons="$addons,$SRC/addons"
cat >"$RUN/odoo.conf" <<CONF
[options]
addons_path = $addons
data_dir = $RUN/data
db_host = 127.0.0.1
db_port = 5432
db_user = odoo
db_password = odoo
http_interface = 127.0.0.1
http_port = $PORT
gevent_port = $((PORT + 3))
admin_passwd = odoo-master-local
dbfilter = ^$DB\$
workers = 0
max_cron_threads = 0
logfile = $RUN/odoo.log
log_level = info
CONF

if [ ! -s "$RUN/live.env" ]; then
  (cd "$SRC" && /usr/bin/python3 odoo-bin -c "$RUN/odoo.conf" -d "$DB" -i account --stop-after-init --logfile="$RUN/init.log")
  (cd "$SRC" && /usr/bin/python3 odoo-bin shell -c "$RUN/odoo.conf" -d "$DB" --no-http --logfile=/dev/null \
    <"$HERE/test/odoo-live/prepare-live-odoo.py" >"$RUN/prepare.out" 2>&1)
  key=$(sed -n 's/^APIKEY=//p' "$RUN/prepare.out")
  [ -n "$key" ] || { cat "$RUN/prepare.out"; exit 1; }
  echo "export ODOO_URL=http://127.0.0.1:$PORT ODOO_DB=$DB ODOO_USER=admin ODOO_API_KEY=$key" >"$RUN/live.env"
fi

if [ -f "$RUN/odoo.pid" ] && kill -0 "$(cat "$RUN/odoo.pid")" 2>/dev/null; then
  echo "odoo already running (pid $(cat "$RUN/odoo.pid"))"
else
  (cd "$SRC" && setsid nohup /usr/bin/python3 "$SRC/odoo-bin" -c "$RUN/odoo.conf" >>"$RUN/odoo.stdout" 2>&1 </dev/null &
    echo $! >"$RUN/odoo.pid")
fi
for _ in $(seq 1 60); do
  curl -sf "http://127.0.0.1:$PORT/jsonrpc" -H 'Content-Type: application/json' \
    -d '{"jsonrpc":"2.0","method":"call","params":{"service":"common","method":"version","args":[]}}' && echo && break
  sleep 1
done
echo "ready: . $RUN/live.env && npm run test:odoo"
