#!/bin/sh
# As the official image does: without a configuration of its own, redis-server started by
# name serves the other containers (protected mode would refuse them).
set -eu
if [ "${1:-}" = redis-server ]; then
    case " $* " in
        *" --protected-mode "*) ;;
        *) set -- "$@" --protected-mode no ;;
    esac
fi
exec "$@"
