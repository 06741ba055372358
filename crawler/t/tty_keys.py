#!/usr/bin/env python3
"""crawler/t/tty_keys.py: drive an interactive command through a pseudo-terminal.

Usage: tty_keys.py TRANSCRIPT PROMPT KEYS -- COMMAND [ARG]...

Runs COMMAND with a pty as its terminal; each time PROMPT appears in its
output, types the next character of KEYS (no Enter; "^C" in KEYS is the
interrupt character).  Writes everything the command printed to TRANSCRIPT and
prints one line: "exit=N" (or "signal=N"), then "icanon=0|1 echo=0|1", the
terminal modes left behind.  Gives up after 60 s.
"""
import os
import pty
import select
import sys
import termios
import time


def main():
    transcript, prompt, keys = sys.argv[1], sys.argv[2].encode(), sys.argv[3]
    command = sys.argv[sys.argv.index("--") + 1:]
    keys = keys.replace("^C", "\x03")
    pid, master = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    out = b""
    seen = 0                # prompts answered
    deadline = time.time() + 60
    while time.time() < deadline:
        r, _, _ = select.select([master], [], [], 0.5)
        if master in r:
            try:
                data = os.read(master, 4096)
            except OSError:
                break
            if not data:
                break
            out += data
            while out.count(prompt) > seen and seen < len(keys):
                os.write(master, keys[seen].encode())
                seen += 1
    else:
        os.kill(pid, 9)
    attrs = termios.tcgetattr(master)
    _, status = os.waitpid(pid, 0)
    with open(transcript, "wb") as f:
        f.write(out)
    if os.WIFSIGNALED(status):
        print("signal=%d" % os.WTERMSIG(status))
    else:
        print("exit=%d" % os.WEXITSTATUS(status))
    lflag = attrs[3]
    print("icanon=%d echo=%d" % (bool(lflag & termios.ICANON), bool(lflag & termios.ECHO)))


if __name__ == "__main__":
    main()
