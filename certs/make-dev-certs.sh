#!/bin/sh
# Makes a development CA and a server (and client) certificate signed by it, for sipproxy's
# tls: section, with the openssl CLI. Never for production: the CA key sits next to the certs.
#
# Usage: certs/make-dev-certs.sh [-o DIR] [--force] [--days N] [--stem NAME]
#                               [--start YYYYMMDDHHMMSSZ --end YYYYMMDDHHMMSSZ] [NAME|IP ...]
#   -o DIR      output directory (default: certs/dev next to this script; git-ignored)
#   --force     make a new CA even if DIR/ca.pem exists (otherwise the CA is kept)
#   --days N    server certificate validity (default 825, the longest browsers accept)
#   --stem NAME file names of the server certificate: NAME.pem / NAME.key (default server)
#   --start/--end  explicit validity (e.g. an expired certificate for tests)
#   NAME|IP     extra subjectAltNames besides localhost, 127.0.0.1 and ::1
set -eu

OUT="$(cd "$(dirname "$0")" && pwd)/dev"
FORCE=0
DAYS=825
STEM=server
START=""
END=""
EXTRA=""
while [ $# -gt 0 ]; do
  case "$1" in
    -o) OUT="$2"; shift 2 ;;
    --force) FORCE=1; shift ;;
    --days) DAYS="$2"; shift 2 ;;
    --stem) STEM="$2"; shift 2 ;;
    --start) START="$2"; shift 2 ;;
    --end) END="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "make-dev-certs: unknown option $1" >&2; exit 2 ;;
    *) EXTRA="$EXTRA $1"; shift ;;
  esac
done
if { [ -n "$START" ] && [ -z "$END" ]; } || { [ -z "$START" ] && [ -n "$END" ]; }; then
  echo "make-dev-certs: --start and --end go together" >&2; exit 2
fi
command -v openssl >/dev/null || { echo "make-dev-certs: openssl not found" >&2; exit 1; }

mkdir -p "$OUT"
umask 077
DB="$OUT/.ca-db"

# subjectAltName: the loopback names always, then the extra names (IPs recognised by shape).
SAN="DNS:localhost,IP:127.0.0.1,IP:::1"
for n in $EXTRA; do
  case "$n" in
    *:*|[0-9]*.[0-9]*.[0-9]*.[0-9]*) SAN="$SAN,IP:$n" ;;
    *) SAN="$SAN,DNS:$n" ;;
  esac
done

if [ "$FORCE" = 1 ] || [ ! -s "$OUT/ca.pem" ] || [ ! -s "$OUT/ca.key" ]; then
  rm -rf "$DB"
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$OUT/ca.key" 2>/dev/null
  openssl req -x509 -new -key "$OUT/ca.key" -sha256 -days 3650 -out "$OUT/ca.pem" \
    -subj "/O=Strowger development/CN=Strowger dev CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash"
  echo "wrote $OUT/ca.pem and $OUT/ca.key (new development CA)"
else
  echo "kept  $OUT/ca.pem (existing CA; --force makes a new one)"
fi

# openssl ca (rather than x509 -req) because it can set explicit start/end dates.
mkdir -p "$DB"
: > "$DB/index.txt"
[ -s "$DB/serial" ] || echo 01 > "$DB/serial"
cat > "$DB/ca.cnf" <<CNF
[ca]
default_ca = dev
[dev]
dir = $DB
database = $DB/index.txt
serial = $DB/serial
new_certs_dir = $DB
certificate = $OUT/ca.pem
private_key = $OUT/ca.key
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[anything]
commonName = supplied
organizationName = optional
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = $SAN
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
CNF

# issue STEM CN SECTION: key + CSR + certificate signed by the CA (random serial).
issue() {
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$OUT/$1.key" 2>/dev/null
  openssl req -new -key "$OUT/$1.key" -out "$DB/$1.csr" -subj "/O=Strowger development/CN=$2"
  if [ -n "$START" ]; then
    validity="-startdate $START -enddate $END"
  else
    validity="-days $DAYS"
  fi
  # shellcheck disable=SC2086
  openssl ca -batch -notext -rand_serial -config "$DB/ca.cnf" -extensions "$3" $validity \
    -in "$DB/$1.csr" -out "$OUT/$1.pem" 2>"$DB/ca.log" ||
    { cat "$DB/ca.log" >&2; exit 1; }
  chmod 644 "$OUT/$1.pem"
}

issue "$STEM" localhost server
echo "wrote $OUT/$STEM.pem and $OUT/$STEM.key (server, subjectAltName $SAN;" \
  "serial $(openssl x509 -in "$OUT/$STEM.pem" -noout -serial | cut -d= -f2);" \
  "$(openssl x509 -in "$OUT/$STEM.pem" -noout -enddate))"
if [ "$STEM" = server ]; then
  issue client dev-client client
  echo "wrote $OUT/client.pem and $OUT/client.key (client certificate, CN=dev-client)"
fi
chmod 644 "$OUT/ca.pem"
