#!/bin/bash
# Container health probe for `tongdian run`: GET /healthz on the worker's
# metrics listener (TONGDIAN_METRICS_LISTEN, default 0.0.0.0:9464) over
# bash's /dev/tcp. Exit 0 on "HTTP/1.x 200", 1 otherwise.
set -u
listen=${TONGDIAN_METRICS_LISTEN:-0.0.0.0:9464}
port=${listen##*:}
host=127.0.0.1
case $listen in
    \[*) host=::1 ;;   # an IPv6 listener such as [::]:9464
esac
exec 3<>"/dev/tcp/${host}/${port}" 2>/dev/null || exit 1
printf 'GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
read -r -t 4 _proto status _rest <&3 || exit 1
[ "$status" = "200" ]
