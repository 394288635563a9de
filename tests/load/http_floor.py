#!/usr/bin/env python3
"""Server CPU per HTTP request with no storage behind it: GET /health on a running
ringhook-local, at a fixed rate or closed-loop, one keep-alive connection per client thread.

It measures the floor under "CPU per event at a light rate" (docs/performance.md): what the
runner spends just receiving and answering a request when requests arrive one at a time,
against the same when they arrive back to back.

    ringhook-local --data-dir /tmp/floor --listen 127.0.0.1:18111 &
    python3 tests/load/http_floor.py 18111 $(pgrep -x ringhook-local) rate 500 8
    python3 tests/load/http_floor.py 18111 $(pgrep -x ringhook-local) closed 4 8

Arguments: port, runner pid, mode (`rate` R requests/s | `closed` N threads), R or N, seconds.
"""
import http.client
import os
import sys
import threading
import time


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    port, pid, mode, arg, seconds = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
    done = [0]
    lock = threading.Lock()

    def client(rate):
        conn = http.client.HTTPConnection("127.0.0.1", port)
        start, n = time.perf_counter(), 0
        while time.perf_counter() - start < seconds:
            if rate:
                wait = start + n / rate - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
            conn.request("GET", "/health")
            response = conn.getresponse()
            response.read()
            assert response.status == 200, response.status
            n += 1
        with lock:
            done[0] += n

    cpu0, t0 = cpu_seconds(pid), time.perf_counter()
    threads = [threading.Thread(target=client, args=(arg,))] if mode == "rate" else [
        threading.Thread(target=client, args=(None,)) for _ in range(int(arg))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed, cpu = time.perf_counter() - t0, cpu_seconds(pid) - cpu0
    print(f"{mode} {arg:g}: {done[0] / elapsed:.0f} requests/s, server CPU {100 * cpu / elapsed:.0f}% of a core, "
          f"{1000 * cpu / done[0]:.3f} ms per request")


if __name__ == "__main__":
    main()
