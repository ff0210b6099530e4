"""subprocess: a child process through a shell and directly, output captured."""

import subprocess

out = subprocess.run(["/bin/sh", "-c", "echo child $((40 + 2))"], capture_output=True, text=True)
assert out.returncode == 0 and out.stdout == "child 42\n", out
listing = subprocess.check_output(["/usr/bin/env"], env={"CORPUS": "1"}, text=True)
assert "CORPUS=1" in listing, listing
print("CORPUS OK", flush=True)
