#!/usr/bin/python3
"""Crash test of the journal store: SIGKILL a writer at random moments.

usage: store_crash_test.py <store_crash_writer> [rounds] [seed]

Each round starts the writer on the same store, lets it commit for a random
time (it prints each acknowledged commit number), kills it with SIGKILL, and
runs the verifier: the store must open, hold every acknowledged commit, and
hold no commit partially (the one in flight may be there entirely or not at all).
"""
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time


def main():
    writer = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else int(time.time())
    rng = random.Random(seed)
    work = tempfile.mkdtemp(prefix="vauth-crash-")
    store = os.path.join(work, "store")
    print(f"seed={seed} store={store}")
    total_acked = 0
    killed_mid_run = 0
    verified = 0  # commits the store was verified to hold after the previous round
    try:
        for r in range(rounds):
            proc = subprocess.Popen([writer, store], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            acked = []

            def reader():
                for line in proc.stdout:
                    acked.append(int(line))

            t = threading.Thread(target=reader)
            t.start()
            time.sleep(rng.uniform(0.1, 1.0))
            still_running = proc.poll() is None
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            t.join()
            err = proc.stderr.read().decode(errors="replace")
            if still_running:
                killed_mid_run += 1
            else:
                print(f"round {r}: writer exited early (rc={proc.returncode}): {err.strip()}")
                return 1
            # Nothing acknowledged this round: what the store held before still stands.
            last = acked[-1] if acked else verified
            check = subprocess.run([writer, "--verify", store, str(last)], capture_output=True, text=True)
            out = check.stdout.strip()
            if check.returncode != 0 or not out.startswith("ok n="):
                print(f"round {r}: FAILED after {len(acked)} acks (last {last}): {out} {check.stderr.strip()}")
                return 1
            verified = int(out.split()[1][2:])
            total_acked += len(acked)
            warn = " (torn tail dropped)" if "dropping a torn" in check.stderr else ""
            print(f"round {r}: {len(acked)} acked, last={last}: {out}{warn}")
        print(f"PASS: {rounds} rounds, {killed_mid_run} killed mid-write, {total_acked} acknowledged commits verified")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
