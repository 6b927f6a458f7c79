#!/usr/bin/env bash
# Start Redis, PostgreSQL and MariaDB for the tests when they are not already answering on localhost.
set -euo pipefail
redis_up() { (exec 3<>/dev/tcp/127.0.0.1/6379 && printf 'PING\r\n' >&3 && head -c 5 <&3 | grep -q PONG) 2>/dev/null; }
if ! redis_up; then
  echo "services: starting redis-server on 127.0.0.1:6379" >&2
  mkdir -p /tmp/shinsei-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /tmp/shinsei-redis --logfile /tmp/shinsei-redis/redis.log
  for _ in $(seq 50); do redis_up && break; sleep 0.1; done
  redis_up || { echo "services: redis did not start" >&2; exit 1; }
fi
pg_up() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }
if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "services: starting PostgreSQL" >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    for _ in $(seq 50); do pg_up && break; sleep 0.2; done
  fi
  pg_up || echo "services: PostgreSQL is not answering on 127.0.0.1:5432; its tests will fail" >&2
fi
maria_up() { (exec 3<>/dev/tcp/127.0.0.1/3306) 2>/dev/null; }
if ! maria_up; then
  if command -v service >/dev/null 2>&1 && [ -x /usr/sbin/mariadbd ]; then
    echo "services: starting MariaDB" >&2
    service mariadb start >/dev/null 2>&1 || true
    for _ in $(seq 50); do maria_up && break; sleep 0.2; done
  fi
  maria_up || echo "services: MariaDB is not answering on 127.0.0.1:3306; the SQL target's MariaDB test will fail (set SHINSEI_TEST_MARIA_URL)" >&2
fi
