"""The probes cgen adds when a manifest leaves them out (shared by the builder and import)."""

from __future__ import annotations

# Timings of the probes cgen adds when a manifest leaves them out. Readiness ("may traffic
# come?") asks often and gives up fast, so a pod slow under load leaves the rotation within
# ~10 s; liveness ("is the process still there?") waits 10 s, then tolerates 6 misses 20 s
# apart (~2 min) before a restart, so load alone does not restart pods.
DEFAULT_READINESS_TIMINGS = (("periodSeconds", 5), ("failureThreshold", 2))
DEFAULT_LIVENESS_TIMINGS = (
    ("initialDelaySeconds", 10),
    ("periodSeconds", 20),
    ("timeoutSeconds", 5),
    ("failureThreshold", 6),
)
