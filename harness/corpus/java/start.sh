#!/bin/sh
# A shell entrypoint that starts the JVM as its child (not exec) and passes on its status,
# as many images' docker-entrypoint.sh do.
set -e
JAVA_OPTS="${JAVA_OPTS:--Xmx128m -Xshare:auto}"
/usr/bin/java $JAVA_OPTS "$@"
status=$?
echo "jvm exited with $status"
exit $status
