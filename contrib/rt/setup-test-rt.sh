#!/usr/bin/env bash
# A private Request Tracker 5 for tests and trials, from the Debian packages
# (request-tracker5, rt5-standalone, rt5-db-sqlite): its SQLite database, configuration and
# logs live in DIR, and its web server listens on 127.0.0.1:PORT only.
#
#   setup-test-rt.sh init DIR PORT    create the database, the queues, the custom field
#                                     "Sereno incident", the API user "sereno" (its REST2
#                                     token in DIR/token), the agent "agent1" (its token in
#                                     DIR/agent-token),
#                                     the callback scrip of sereno-callback.initialdata,
#                                     pointed at SERENO_CALLBACK_URL with
#                                     SERENO_CALLBACK_SECRET when those are set
#   setup-test-rt.sh serve DIR PORT   run rt-server in the foreground (exec)
set -euo pipefail

action=${1:?usage: setup-test-rt.sh init|serve DIR PORT}
dir=$(realpath -m "${2:?missing DIR}")
port=${3:?missing PORT}
here=$(dirname "$(realpath "$0")")
rt_lib=/usr/share/request-tracker5/lib
rt_server=/usr/share/request-tracker5/libexec/rt-server

[ -x "$rt_server" ] || {
  echo "rt-server missing: apt-get install request-tracker5 rt5-standalone rt5-db-sqlite" >&2
  exit 2
}

# Debian's own site configuration (its dbconfig database, its mail) is left out entirely.
export RT_SITE_CONFIG="$dir/RT_SiteConfig.pm"
export RT_SITE_CONFIG_DIR="$dir/RT_SiteConfig.d"

write_config() {
  mkdir -p "$dir" "$RT_SITE_CONFIG_DIR"
  cat >"$RT_SITE_CONFIG" <<PERL
Set(\$rtname, 'sereno-test');
Set(\$Organization, 'sereno.test');
Set(\$Timezone, 'UTC');
Set(\$DatabaseType, 'SQLite');
Set(\$DatabaseName, '$dir/rt.db');
Set(\$WebDomain, '127.0.0.1');
Set(\$WebPort, $port);
Set(\$WebPath, '');
Set(\$WebBaseURL, 'http://127.0.0.1:$port');
Set(\$LogToSTDERR, 'warning');
Set(\$LogToFile, undef);
Set(\$LogToSyslog, undef);
Set(\$MailCommand, 'mbox');
Set(\$LogDir, '$dir');
Set(\$MasonDataDir, '$dir/mason');
Set(\$MasonSessionDir, '$dir/sessions');
Set(\$DevelMode, 0);
PERL
}

case "$action" in
init)
  rm -rf "$dir"
  write_config
  mkdir -p "$dir/mason" "$dir/sessions"
  rt-setup-database --action init --skip-create --dba-password '' \
    >"$dir/setup.log" 2>&1 || rt-setup-database --action init --dba-password '' \
    >>"$dir/setup.log" 2>&1 || { cat "$dir/setup.log" >&2; exit 1; }
  rt-setup-database --action insert --datafile "$here/test-initialdata.pl" --skip-create \
    >>"$dir/setup.log" 2>&1 || { cat "$dir/setup.log" >&2; exit 1; }
  rt-setup-database --action insert --datafile "$here/sereno-callback.initialdata" \
    --skip-create >>"$dir/setup.log" 2>&1 || { cat "$dir/setup.log" >&2; exit 1; }
  if [ -n "${SERENO_CALLBACK_URL:-}" ]; then
    # The scrip's settings, as an operator would write them (see sereno-callback.initialdata).
    cat >"$RT_SITE_CONFIG_DIR/90-sereno.pm" <<PERL
Set(\$SerenoCallbackURL, '$SERENO_CALLBACK_URL');
Set(\$SerenoCallbackSecret, '${SERENO_CALLBACK_SECRET:?SERENO_CALLBACK_SECRET too}');
PERL
  fi
  perl -I"$rt_lib" "$here/make-token.pl" sereno >"$dir/token"
  perl -I"$rt_lib" "$here/make-token.pl" agent1 >"$dir/agent-token"
  ;;
serve)
  [ -f "$RT_SITE_CONFIG" ] || { echo "run: setup-test-rt.sh init $dir $port" >&2; exit 2; }
  exec "$rt_server" --server Standalone --host 127.0.0.1 --port "$port"
  ;;
*)
  echo "usage: setup-test-rt.sh init|serve DIR PORT" >&2
  exit 2
  ;;
esac
