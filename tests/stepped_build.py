"""A build that stops at the points it reports, so that tests act there, not at times guessed from a quiet machine.

`python stepped_build.py ARGS…` runs `audioguide ARGS…`. Before each change the build makes to its files
(os.replace, os.unlink) it writes "N path" on the file descriptor STEP_OUT and waits for one byte on STEP_IN.
The build's code is unchanged: it only waits where it already writes. `Stepped` drives it from a test.
"""

import os
import signal
import subprocess
import sys
import threading


class Stepped:
    """A stepped build in its own process group: iterate `steps()`; leave the loop to hold the build there."""

    def __init__(self, args: list[str]):
        out_r, out_w = os.pipe()
        in_r, in_w = os.pipe()
        env = {**os.environ, "STEP_OUT": str(out_w), "STEP_IN": str(in_r)}
        self.proc = subprocess.Popen([sys.executable, __file__, *args], pass_fds=(out_w, in_r), env=env,
                                     start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(out_w)
        os.close(in_r)
        self.reports, self.go = os.fdopen(out_r, "r"), in_w

    def steps(self):
        """Each change the build is about to make, as "N path"; the build waits until the loop asks for the next."""
        for line in self.reports:
            yield line.strip()
            os.write(self.go, b".")

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.close()

    def close(self) -> int:
        self.reports.close()
        os.close(self.go)
        return self.proc.wait()


def _stepped(real, out: int, inp: int):
    lock, count = threading.Lock(), [0]  # the build's worker threads take their turns

    def change(path, *args, **kwargs):
        with lock:
            count[0] += 1
            os.write(out, f"{count[0]} {os.fsdecode(args[0] if real is os.replace else path)}\n".encode())
            if not os.read(inp, 1):
                os._exit(70)  # the test has gone
            return real(path, *args, **kwargs)
    return change


if __name__ == "__main__":
    from audioguide.cli import main

    fds = int(os.environ["STEP_OUT"]), int(os.environ["STEP_IN"])
    os.replace, os.unlink = _stepped(os.replace, *fds), _stepped(os.unlink, *fds)
    sys.argv[0] = "audioguide"
    main()
