"""logging to a file, with a size-based rotation."""

import logging
import logging.handlers

handler = logging.handlers.RotatingFileHandler("app.log", maxBytes=2000, backupCount=2)
handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(process)d %(message)s"))
log = logging.getLogger("corpus")
log.addHandler(handler)
log.setLevel(logging.INFO)
for i in range(200):
    log.info("event %d", i)
handler.flush()
handler.close()
with open("app.log.1") as f:
    assert "event" in f.read()
print("CORPUS OK", flush=True)
